module github.com/mcpauthz/mcpauthz/adapters/chi

go 1.25.0

require github.com/mcpauthz/mcpauthz v0.0.0

require github.com/go-chi/chi/v5 v5.5.0 // indirect

replace github.com/mcpauthz/mcpauthz => ../..
