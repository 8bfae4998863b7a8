module example.com/bad

go 1.25.0
