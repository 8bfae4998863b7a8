module github.com/mcpauthz/mcpauthz/bench

go 1.25.0

require github.com/mcpauthz/mcpauthz v0.0.0-20261202061834-40885e4236b8

require github.com/buger/jsonparser v1.6.1

replace github.com/mcpauthz/mcpauthz => ../
