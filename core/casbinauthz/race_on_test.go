//go:build race

package casbinauthz

// raceEnabled: the race detector slows Casbin's Enforce (the oracle of the
// differential tests) several times over, and CI runs every test under
// -race only. The differential tests then draw a third of their random
// requests per policy (TestDifferentialIndexVsEnforce, every policy still
// drawn) or of their policies (TestDifferentialAuthorize), under the same
// coverage guards; a run without -race, and the fuzz targets, draw all.
const raceEnabled = true
