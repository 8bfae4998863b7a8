package main

// Flag is in package main: allowed.
var Flag = 1

func main() {}
