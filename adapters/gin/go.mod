module github.com/mcpauthz/mcpauthz/adapters/gin

go 1.25.0

require github.com/mcpauthz/mcpauthz v0.0.0

replace github.com/mcpauthz/mcpauthz => ../..
