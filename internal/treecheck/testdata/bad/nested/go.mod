module example.com/nested

go 1.25.0
