module github.com/mcpauthz/mcpauthz/examples

go 1.25.0

require github.com/mcpauthz/mcpauthz v0.0.0

require github.com/go-jose/go-jose/v4 v4.1.8 // indirect

replace github.com/mcpauthz/mcpauthz => ../

replace github.com/mcpauthz/mcpauthz/adapters/gin => ../adapters/gin

replace github.com/mcpauthz/mcpauthz/adapters/fiber => ../adapters/fiber

replace github.com/mcpauthz/mcpauthz/adapters/chi => ../adapters/chi
