//go:build unix

package devdb

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os/exec"
	"os/user"
	"strconv"
	"syscall"
)

// clusterUserName is created only when the machine has no postgres user,
// which is the case when the server binaries came from somewhere other
// than a distribution package.
const clusterUserName = "pulso-pg"

// systemAccount returns the postgres system user, or pulso-pg, creating
// pulso-pg when neither exists.
func systemAccount(ctx context.Context) (*account, error) {
	for _, name := range []string{"postgres", clusterUserName} {
		if u, err := user.Lookup(name); err == nil {
			return accountOf(u)
		}
	}
	out, err := exec.CommandContext(ctx, "useradd",
		"--system", "--no-create-home", "--shell", "/usr/sbin/nologin", clusterUserName).CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("PostgreSQL refuses to run as root, and creating the system user %s for it failed: %v: %s; "+
			"run as a normal user or set DATABASE_URL", clusterUserName, err, out)
	}
	u, err := user.Lookup(clusterUserName)
	if err != nil {
		return nil, fmt.Errorf("look up user %s after creating it: %w", clusterUserName, err)
	}
	return accountOf(u)
}

// accountByID names the owner of an existing data directory, so a cluster
// keeps running as whoever initialised it.
func accountByID(uid, gid uint32) *account {
	u, err := user.LookupId(strconv.FormatUint(uint64(uid), 10))
	if err != nil {
		// The user may have been deleted since; the ids still work.
		return &account{name: "uid " + strconv.FormatUint(uint64(uid), 10), uid: uid, gid: gid, groups: []uint32{gid}}
	}
	a, err := accountOf(u)
	if err != nil {
		return &account{name: u.Username, uid: uid, gid: gid, groups: []uint32{gid}}
	}
	return a
}

func accountOf(u *user.User) (*account, error) {
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("user %s has uid %q: %w", u.Username, u.Uid, err)
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("user %s has gid %q: %w", u.Username, u.Gid, err)
	}
	a := &account{name: u.Username, uid: uint32(uid), gid: uint32(gid), groups: []uint32{uint32(gid)}}
	// Supplementary groups matter for the traversal check and for what the
	// server may read; without them we fall back to the primary group.
	if ids, err := u.GroupIds(); err == nil {
		a.groups = a.groups[:0]
		for _, id := range ids {
			if g, err := strconv.ParseUint(id, 10, 32); err == nil {
				a.groups = append(a.groups, uint32(g))
			}
		}
	}
	return a, nil
}

// fileOwner returns the uid and gid that own fi.
func fileOwner(fi fs.FileInfo) (uid, gid uint32, err error) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, 0, errors.New("file ownership is not available on this system")
	}
	return st.Uid, st.Gid, nil
}

// sysProcAttr runs a command as a (nil: as ourselves) in its own process
// group, so a Ctrl-C meant for `make run` does not also reach pg_ctl while
// it waits for the server.
func sysProcAttr(a *account) *syscall.SysProcAttr {
	attr := &syscall.SysProcAttr{Setpgid: true}
	if a != nil {
		attr.Credential = &syscall.Credential{Uid: a.uid, Gid: a.gid, Groups: a.groups}
	}
	return attr
}
