// Package migrations embeds the versioned schema so the binary can migrate
// any database it is pointed at, and so sqlc reads the same files.
package migrations

import "embed"

// FS holds NNNN_name.sql files in goose format (-- +goose Up / Down).
//
//go:embed *.sql
var FS embed.FS
