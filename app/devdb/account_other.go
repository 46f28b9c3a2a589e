//go:build !unix

package devdb

import (
	"context"
	"errors"
	"io/fs"
	"syscall"
)

// Outside Unix there is no root to step down from (os.Geteuid returns -1),
// so these are never reached; they exist to keep the package building.

func systemAccount(context.Context) (*account, error) {
	return nil, errors.New("running the private cluster as another user is only supported on Unix")
}

func accountByID(uid, gid uint32) *account {
	return &account{name: "owner", uid: uid, gid: gid}
}

func fileOwner(fs.FileInfo) (uid, gid uint32, err error) {
	return 0, 0, errors.New("file ownership is not available on this system")
}

func sysProcAttr(*account) *syscall.SysProcAttr { return nil }
