package quotes_test

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"net/url"
	"strings"
	"testing"
)

// pngHeader is a PNG whose IHDR claims w×h at the given bit depth and
// colour type, followed by an IDAT of garbage: any attempt to decode it
// fails, so a refusal that names the size proves the header alone decided.
func pngHeader(w, h uint32, depth, colorType byte) string {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, data []byte) {
		_ = binary.Write(&b, binary.BigEndian, uint32(len(data)))
		b.WriteString(typ)
		b.Write(data)
		_ = binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(append([]byte(typ), data...)))
	}
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = depth, colorType
	chunk("IHDR", ihdr)
	chunk("IDAT", []byte("not a zlib stream at all"))
	chunk("IEND", nil)
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(b.Bytes())
}

// deepPNG is a real signature (ink on transparent) at 16 bits per channel.
func deepPNG(t *testing.T, w, h int) string {
	img := image.NewNRGBA64(image.Rect(0, 0, w, h))
	for x := 10; x < w-10; x++ {
		img.Set(x, h/2+(x%7), color.Black)
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(b.Bytes())
}

// What a signature may cost is decided from the PNG header, and only for a
// link that may still be answered.
func TestSignatureCostAndLinkStateFirst(t *testing.T) {
	w := newWorld(t)
	id := w.draft(t)
	w.lines(t, id, nil)
	token := w.send(t, id)
	client := w.Env.Client()

	const tooBig = "La firma es demasiado grande"
	for name, sig := range map[string]string{
		"20000×20000 header":    pngHeader(20000, 20000, 8, 6),
		"5000×1000 header":      pngHeader(5000, 1000, 8, 6),
		"16-bit header":         pngHeader(600, 200, 16, 6),
		"16-bit real signature": deepPNG(t, 600, 200),
		"6 MP real signature":   signaturePNG(t, 3000, 2000, true),
	} {
		r := client.Post("/q/"+token+"/sign", url.Values{"signer_name": {"Ana Ruiz"}, "signature": {sig}})
		if r.Status != 422 || !strings.Contains(r.Body, tooBig) {
			t.Errorf("%s: %d, want 422 %q; body %.200q", name, r.Status, tooBig, r.Body)
		}
	}
	if n := w.Env.Count(`SELECT count(*) FROM quote_events WHERE quote_id = $1 AND kind = 'signed'`, id); n != 0 {
		t.Fatalf("%d signatures stored", n)
	}

	// A link already answered says so, whatever the image: the state is
	// checked before the image is looked at.
	if r := client.Post("/q/"+token+"/reject", url.Values{"reason": {"No"}}); r.Status >= 400 {
		t.Fatalf("reject: %d", r.Status)
	}
	r := client.Post("/q/"+token+"/sign", url.Values{"signer_name": {"Ana"}, "signature": {pngHeader(20000, 20000, 8, 6)}})
	if r.Status != 409 || !strings.Contains(r.Body, "ya fue respondido") {
		t.Errorf("bad image on an answered link: %d %.300q", r.Status, r.Body)
	}

	// A revoked or expired link refuses before the image too.
	id2 := w.draft(t)
	w.lines(t, id2, nil)
	tok2 := w.send(t, id2)
	w.Env.Exec(`UPDATE quote_links SET revoked_at = now() WHERE quote_id = $1`, id2)
	r = client.Post("/q/"+tok2+"/sign", url.Values{"signer_name": {"Ana"}, "signature": {"data:image/png;base64,bm90IGFuIGltYWdl"}})
	if r.Status != 410 || !strings.Contains(r.Body, "ya no está disponible") {
		t.Errorf("bad image on a revoked link: %d %.300q", r.Status, r.Body)
	}
	w.Env.Exec(`UPDATE quote_links SET revoked_at = NULL, expires_at = now() - interval '1 day' WHERE quote_id = $1`, id2)
	r = client.Post("/q/"+tok2+"/sign", url.Values{"signer_name": {"Ana"}, "signature": {pngHeader(20000, 20000, 8, 6)}})
	if r.Status != 410 {
		t.Errorf("bad image on an expired link: %d", r.Status)
	}
}
