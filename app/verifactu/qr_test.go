package verifactu

import (
	"bytes"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The QR vectors of test-vectors.json: the four parameters, in order, each
// percent-encoded, on the host of each environment.
func TestQRURLVectors(t *testing.T) {
	hosts := map[string]string{"production": "https://www2.agenciatributaria.gob.es", "test": "https://prewww2.aeat.es"}
	for _, v := range loadVectors(t).QR {
		path := "/wlpl/TIKE-CONT/ValidarQR"
		if v.System != "VERI*FACTU" {
			path += "NoVerifactu"
		}
		if got := qrURL(hosts[v.Environment]+path, v.NIF, v.NumSerie, v.Fecha, v.Importe); got != v.URL {
			t.Errorf("%s:\n got %s\nwant %s", v.ID, got, v.URL)
		}
	}
}

// QRURL takes the alta's own texts, so the importe has the two decimals
// of ImporteTotal (the AEAT example's 241.4 is written 241.40 here, the
// same text as the record and its huella); the test host is used for the
// test environment; / & and spaces are escaped.
func TestQRURL(t *testing.T) {
	a := &Alta{IDFactura: IDFactura{"89890001K", "12345678&G33", date("01-01-2024")}, ImporteTotal: 24140}
	if got, want := QRURL(Test, a), "https://prewww2.aeat.es/wlpl/TIKE-CONT/ValidarQR?nif=89890001K&numserie=12345678%26G33&fecha=01-01-2024&importe=241.40"; got != want {
		t.Errorf("\n got %s\nwant %s", got, want)
	}
	a = &Alta{IDFactura: IDFactura{"A86018322", "FACT 2026/001", date("01-10-2025")}, ImporteTotal: -10023}
	if got, want := QRURL(Production, a), "https://www2.agenciatributaria.gob.es/wlpl/TIKE-CONT/ValidarQR?nif=A86018322&numserie=FACT%202026%2F001&fecha=01-10-2025&importe=-100.23"; got != want {
		t.Errorf("\n got %s\nwant %s", got, want)
	}
}

// The PNG decodes, with zbarimg, to exactly the URL it was made from.
// Without zbarimg the test fails (Debian: apt-get install zbar-tools).
func TestQRDecodes(t *testing.T) {
	bin, err := exec.LookPath("zbarimg")
	if err != nil {
		t.Fatal("zbarimg is not installed, so the QR code cannot be decoded: install it (Debian: apt-get install zbar-tools)")
	}
	a := ordinaria("F2026/0001&B")
	for _, url := range []string{QRURL(Production, a), QRURL(Test, a)} {
		q, err := NewQRCode(url)
		if err != nil {
			t.Fatal(err)
		}
		b, err := q.PNG(4)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		if side := (q.Size + 2*QuietZone) * 4; img.Bounds().Dx() != side || img.Bounds().Dy() != side {
			t.Fatalf("PNG is %v, want %d px square", img.Bounds(), side)
		}
		f := filepath.Join(t.TempDir(), "qr.png")
		if err := os.WriteFile(f, b, 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(bin, "--quiet", "--raw", "-Sbinary", f).Output()
		if err != nil {
			t.Fatalf("zbarimg: %v", err)
		}
		if got := strings.TrimSuffix(string(out), "\n"); got != url {
			t.Fatalf("decoded %q, want %q", got, url)
		}
	}
	if _, err := (&QRCode{Size: 21, dark: make([]bool, 441)}).PNG(0); err == nil {
		t.Fatal("scale 0 accepted")
	}
}

// The symbol uses error correction level M, read back from its format
// information (ISO/IEC 18004, 7.9): both copies of the 15 format bits
// agree and, unmasked, their two level bits are 00 (M).
func TestQRLevelM(t *testing.T) {
	q, err := NewQRCode(QRURL(Production, ordinaria("F2026-0001")))
	if err != nil {
		t.Fatal(err)
	}
	n := q.Size
	bit := func(x, y int) int {
		if q.Dark(x, y) {
			return 1
		}
		return 0
	}
	// Bit i of the first copy, around the top-left finder pattern.
	var first, second int
	for i := range 15 {
		var x, y int
		switch {
		case i < 6:
			x, y = 8, i
		case i == 6:
			x, y = 8, 7
		case i == 7:
			x, y = 8, 8
		case i == 8:
			x, y = 7, 8
		default:
			x, y = 14-i, 8
		}
		first |= bit(x, y) << i
		// The second copy: along the top-right and bottom-left finders.
		if i < 8 {
			x, y = n-1-i, 8
		} else {
			x, y = 8, n-15+i
		}
		second |= bit(x, y) << i
	}
	if first != second {
		t.Fatalf("the format copies differ: %015b / %015b", first, second)
	}
	format := first ^ 0x5412
	// A valid BCH(15,5) codeword: the 10 check bits follow from the 5 data bits.
	data := format >> 10
	rem := data
	for range 10 {
		rem = rem<<1 ^ (rem>>9)*0x537
	}
	if data<<10|rem&0x3ff != format {
		t.Fatalf("format bits %015b are not a format codeword", format)
	}
	if level := data >> 3; level != 0 {
		t.Fatalf("error correction level bits %02b, want 00 (M)", level)
	}
}
