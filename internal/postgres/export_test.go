package postgres

// SetTenants is setTenants, for the tests of package postgres_test.
var SetTenants = setTenants
