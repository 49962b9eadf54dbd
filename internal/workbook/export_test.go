package workbook

// For the page-load benchmark, which lives outside the package (it drives the page in a browser).
var (
	SeedBulk      = seedBulk
	OpenTestStore = openTestStore
)
