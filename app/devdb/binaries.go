package devdb

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// binaries are the server tools that manage the private cluster. Both come
// from the same directory, so they are always of the same major version.
type binaries struct {
	initdb string
	pgCtl  string
}

// binSearch says where to look for the server binaries. It is passed around
// rather than read from globals so tests can point it at an empty directory.
type binSearch struct {
	path  string   // a PATH-style list, searched first
	globs []string // versioned install directories; the highest version wins
}

func defaultSearch() binSearch {
	return binSearch{
		path: os.Getenv("PATH"),
		globs: []string{
			// Debian and Ubuntu keep the server tools off PATH.
			"/usr/lib/postgresql/*/bin",
			// The PGDG packages for Red Hat and Fedora do the same.
			"/usr/pgsql-*/bin",
			// Homebrew's postgresql@N formulas are keg-only, so a plain
			// `brew install postgresql@16` does not put them on PATH either.
			"/opt/homebrew/opt/postgresql@*/bin",
			"/usr/local/opt/postgresql@*/bin",
		},
	}
}

// findBinaries prefers PATH, because a developer who put a PostgreSQL there
// chose it, and falls back to the highest installed version.
func findBinaries(s binSearch) (binaries, error) {
	for _, dir := range filepath.SplitList(s.path) {
		// An empty PATH entry means the current directory, which is never
		// where a server is installed.
		if dir == "" {
			continue
		}
		if b, ok := binariesIn(dir); ok {
			return b, nil
		}
	}

	var dirs []string
	for _, g := range s.globs {
		matches, _ := filepath.Glob(g) // the only error is a malformed pattern
		dirs = append(dirs, matches...)
	}
	slices.SortFunc(dirs, func(a, b string) int {
		if c := compareVersions(versionOf(b), versionOf(a)); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	for _, dir := range dirs {
		if b, ok := binariesIn(dir); ok {
			return b, nil
		}
	}

	where := "on PATH"
	if len(s.globs) > 0 {
		where += " or in " + strings.Join(s.globs, ", ")
	}
	return binaries{}, fmt.Errorf("no PostgreSQL server was found on localhost:5432, "+
		"and no PostgreSQL server binaries (initdb, pg_ctl) were found %s to start a private one. "+
		"Install PostgreSQL with `sudo apt-get install postgresql` (Debian/Ubuntu) "+
		"or `brew install postgresql@16` (macOS), "+
		"or set DATABASE_URL to a database you already have", where)
}

func binariesIn(dir string) (binaries, bool) {
	b := binaries{
		initdb: filepath.Join(dir, "initdb"),
		pgCtl:  filepath.Join(dir, "pg_ctl"),
	}
	return b, isExecutable(b.initdb) && isExecutable(b.pgCtl)
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0
}

var versionPattern = regexp.MustCompile(`\d+(?:\.\d+)?`)

// versionOf reads the version from an install directory such as
// /usr/lib/postgresql/15/bin or /opt/homebrew/opt/postgresql@16/bin. The
// last number in the path is the one the glob matched.
func versionOf(dir string) []int {
	found := versionPattern.FindAllString(dir, -1)
	if len(found) == 0 {
		return nil
	}
	var v []int
	for _, part := range strings.Split(found[len(found)-1], ".") {
		n, _ := strconv.Atoi(part)
		v = append(v, n)
	}
	return v
}

// compareVersions orders numerically, so 9.6 < 10 < 15 < 16; a directory
// without a version sorts below every versioned one.
func compareVersions(a, b []int) int {
	for i := 0; i < max(len(a), len(b)); i++ {
		var x, y int = -1, -1
		if i < len(a) {
			x = a[i]
		}
		if i < len(b) {
			y = b[i]
		}
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	return 0
}
