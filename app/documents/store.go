// Package documents keeps files attached to leads and customers: the
// content-addressed store under PULSO_DATA_DIR, type sniffing with an
// allowlist, and the fragment that lists, uploads, downloads and deletes.
package documents

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
)

// Blob is a file in the store: its bytes live at Path(dataDir, SHA256).
type Blob struct {
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
)

// Path is where a blob's bytes live: two-letter fan-out keeps directories small.
func Path(dataDir, sum string) string {
	return filepath.Join(dataDir, "documents", sum[:2], sum)
}

// sniffLen is how much of the head the type checks look at: enough for a
// zip's first entry name and an ODF mimetype.
const sniffLen = 4096

// Store streams r into the store: to a temporary file while hashing and
// counting (never the whole file in memory), then renamed to its address.
// Files over max bytes, empty files and types outside the allowlist are
// refused with a *Rejection and leave nothing behind. The same content
// stored twice is kept once.
func Store(dataDir string, r io.Reader, max int64) (Blob, error) {
	tmpDir := filepath.Join(dataDir, "documents", "tmp")
	if err := os.MkdirAll(tmpDir, 0o750); err != nil {
		return Blob{}, err
	}
	tmp, err := os.CreateTemp(tmpDir, "upload-*")
	if err != nil {
		return Blob{}, err
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	defer tmp.Close()

	h := sha256.New()
	head := &headWriter{max: sniffLen}
	n, err := io.Copy(io.MultiWriter(tmp, h, head), io.LimitReader(r, max+1))
	if err != nil {
		return Blob{}, err
	}
	if n > max {
		return Blob{}, ErrTooLarge
	}
	if n == 0 {
		return Blob{}, ErrEmpty
	}
	ct, err := Sniff(head.buf)
	if err != nil {
		return Blob{}, err
	}
	if err := tmp.Sync(); err != nil {
		return Blob{}, err
	}
	if err := tmp.Close(); err != nil {
		return Blob{}, err
	}
	sum := hex.EncodeToString(h.Sum(nil))
	dst := Path(dataDir, sum)
	if err := os.MkdirAll(filepath.Dir(dst), 0o750); err != nil {
		return Blob{}, err
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return Blob{}, fmt.Errorf("store document: %w", err)
	}
	return Blob{SHA256: sum, Size: n, ContentType: ct}, nil
}

type headWriter struct {
	buf []byte
	max int
}

func (w *headWriter) Write(p []byte) (int, error) {
	if room := w.max - len(w.buf); room > 0 {
		w.buf = append(w.buf, p[:min(room, len(p))]...)
	}
	return len(p), nil
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
