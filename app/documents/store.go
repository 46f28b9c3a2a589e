// Package documents keeps files attached to leads and customers: their
// bytes in app/files (once per content per org), type sniffing with an
// allowlist, and the fragment that lists, uploads, downloads and deletes.
package documents

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"

	"pulso/app/files"
)

// Blob is a stored file as a document sees it: the file holding its bytes
// and the type sniffed from them.
type Blob struct {
	FileID      int64
	SHA256      string
	Size        int64
	ContentType string
}

// Rejection is a file refused for what it is; MessageID says why, to the user.
type Rejection struct{ MessageID string }

func (r *Rejection) Error() string { return r.MessageID }

var (
	// ErrTooLarge: the file is over the configured limit.
	ErrTooLarge = &Rejection{MessageID: "documents.too_large"}
	// ErrExecutable: programs and scripts are never stored.
	ErrExecutable = &Rejection{MessageID: "documents.executable"}
	// ErrTypeNotAllowed: a type outside the allowlist.
	ErrTypeNotAllowed = &Rejection{MessageID: "documents.type_not_allowed"}
	// ErrEmpty: nothing to keep.
	ErrEmpty = &Rejection{MessageID: "documents.empty"}
	// ErrUploadAgain: the stored bytes this upload matched were deleted
	// while it streamed in (see documentsweb keep).
	ErrUploadAgain = &Rejection{MessageID: "documents.upload_again"}
)

// sniffLen is how much of the head the type checks look at: enough for a
// zip's first entry name and an ODF mimetype.
const sniffLen = 4096

// Store streams r into the org's files (never the whole file in memory).
// The type is sniffed from the head before anything is written; files over
// max bytes, empty files and types outside the allowlist are refused with a
// *Rejection and leave nothing behind. The same content stored twice is
// kept once: the blob then names the file the org already had.
func Store(ctx context.Context, fs files.Store, orgID int64, r io.Reader, max int64) (Blob, error) {
	br := bufio.NewReaderSize(r, sniffLen)
	head, err := br.Peek(sniffLen)
	if err != nil && !errors.Is(err, io.EOF) {
		return Blob{}, err
	}
	ct, err := Sniff(head)
	if err != nil {
		return Blob{}, err
	}
	f, err := fs.Put(ctx, orgID, &capped{r: br, left: max})
	if errors.Is(err, ErrTooLarge) {
		return Blob{}, ErrTooLarge
	}
	if err != nil {
		return Blob{}, err
	}
	return Blob{FileID: f.ID, SHA256: f.SHA256, Size: f.Size, ContentType: ct}, nil
}

// capped fails with ErrTooLarge once more than left bytes come through, so
// the store rolls back instead of keeping a file over the limit.
type capped struct {
	r    io.Reader
	left int64
}

func (c *capped) Read(p []byte) (int, error) {
	if c.left < 0 {
		return 0, ErrTooLarge
	}
	if int64(len(p)) > c.left+1 {
		p = p[:c.left+1]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	if c.left < 0 {
		return n, ErrTooLarge
	}
	return n, err
}

// Office formats sniffing cannot tell from a plain zip or OLE file.
const (
	typeDocx = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
	typeXlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	typePptx = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
	typeOLE  = "application/x-ole-storage" // legacy .doc, .xls, .ppt
)

// allowed is what people attach to sales records: documents, sheets,
// images and plain text. Anything a browser would run (HTML, SVG) or an
// OS would execute is not on it.
var allowed = map[string]bool{
	"application/pdf": true, "image/png": true, "image/jpeg": true, "image/gif": true, "image/webp": true,
	"text/plain": true, typeDocx: true, typeXlsx: true, typePptx: true, typeOLE: true,
	"application/vnd.oasis.opendocument.text":         true,
	"application/vnd.oasis.opendocument.spreadsheet":  true,
	"application/vnd.oasis.opendocument.presentation": true,
}

// Sniff names a file's type from its first bytes, never from its name or
// the client's claim, and refuses executables and anything not allowed.
func Sniff(head []byte) (string, error) {
	switch {
	case len(head) == 0:
		return "", ErrEmpty
	case bytes.HasPrefix(head, []byte("\x7fELF")), bytes.HasPrefix(head, []byte("MZ")),
		bytes.HasPrefix(head, []byte("#!")),
		bytes.HasPrefix(head, []byte{0xfe, 0xed, 0xfa, 0xce}), bytes.HasPrefix(head, []byte{0xfe, 0xed, 0xfa, 0xcf}),
		bytes.HasPrefix(head, []byte{0xce, 0xfa, 0xed, 0xfe}), bytes.HasPrefix(head, []byte{0xcf, 0xfa, 0xed, 0xfe}),
		bytes.HasPrefix(head, []byte{0xca, 0xfe, 0xba, 0xbe}):
		return "", ErrExecutable
	case bytes.HasPrefix(head, []byte{0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1}):
		return typeOLE, nil
	case bytes.HasPrefix(head, []byte("PK\x03\x04")):
		return zipType(head)
	}
	ct := http.DetectContentType(head)
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	if !allowed[ct] {
		return "", ErrTypeNotAllowed
	}
	return ct, nil
}

// zipType tells Office Open XML and OpenDocument files from other zips by
// their first entries: ODF stores "mimetype" first, uncompressed; OOXML
// starts with [Content_Types].xml or its part folders.
func zipType(head []byte) (string, error) {
	if len(head) >= 38 && string(head[30:38]) == "mimetype" {
		rest := head[38:]
		for _, t := range []string{
			"application/vnd.oasis.opendocument.text", "application/vnd.oasis.opendocument.spreadsheet",
			"application/vnd.oasis.opendocument.presentation",
		} {
			if bytes.HasPrefix(rest, []byte(t)) && (len(rest) == len(t) || rest[len(t)] != '-') {
				return t, nil
			}
		}
		return "", ErrTypeNotAllowed
	}
	switch {
	case bytes.Contains(head, []byte("word/")):
		return typeDocx, nil
	case bytes.Contains(head, []byte("xl/")):
		return typeXlsx, nil
	case bytes.Contains(head, []byte("ppt/")):
		return typePptx, nil
	}
	return "", ErrTypeNotAllowed
}

// IsRejection reports a *Rejection and its message id.
func IsRejection(err error) (string, bool) {
	var r *Rejection
	if errors.As(err, &r) {
		return r.MessageID, true
	}
	return "", false
}
