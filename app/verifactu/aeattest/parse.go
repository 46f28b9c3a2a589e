package aeattest

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"

	"pulso/app/verifactu"
)

// parseRequest reads a SOAP envelope holding a RegFactuSistemaFacturacion
// request: the Cabecera, and each RegistroFactura's record through
// verifactu.ParseRecord, the parser the app itself trusts.
func parseRequest(body []byte) (Request, error) {
	req := Request{Body: body}
	d := xml.NewDecoder(bytes.NewReader(body))
	inRequest := false
	for {
		tok, err := d.Token()
		if err != nil {
			if inRequest && errors.Is(err, io.EOF) {
				return req, nil
			}
			return req, fmt.Errorf("no RegFactuSistemaFacturacion: %v", err)
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		switch {
		case se.Name.Space == verifactu.NamespaceSOAP:
			// Envelope, Header, Body: step inside.
		case se.Name.Space == verifactu.NamespaceSuministroLR && se.Name.Local == "RegFactuSistemaFacturacion":
			inRequest = true
		case se.Name.Space == verifactu.NamespaceSuministroLR && se.Name.Local == "Cabecera":
			var c struct {
				ObligadoEmision struct{ NombreRazon, NIF string }  `xml:"ObligadoEmision"`
				Representante   *struct{ NombreRazon, NIF string } `xml:"Representante"`
			}
			if err := d.DecodeElement(&c, &se); err != nil {
				return req, err
			}
			req.Cabecera.ObligadoEmision = verifactu.PersonaES(c.ObligadoEmision)
			if c.Representante != nil {
				p := verifactu.PersonaES(*c.Representante)
				req.Cabecera.Representante = &p
			}
		case se.Name.Space == verifactu.NamespaceSuministroLR && se.Name.Local == "RegistroFactura":
			rec, err := record(d, body)
			if err != nil {
				return req, fmt.Errorf("record %d: %w", len(req.Records), err)
			}
			req.Records = append(req.Records, rec)
		default:
			return req, fmt.Errorf("unexpected element {%s}%s", se.Name.Space, se.Name.Local)
		}
	}
}

// record reads the one element inside a RegistroFactura: its bytes go to
// verifactu.ParseRecord, with the sum1 namespace declared on it as the
// app stores them.
func record(d *xml.Decoder, body []byte) (Record, error) {
	for {
		start := d.InputOffset()
		tok, err := d.Token()
		if err != nil {
			return Record{}, err
		}
		switch t := tok.(type) {
		case xml.CharData:
			if len(bytes.TrimSpace(t)) > 0 {
				return Record{}, errors.New("text in RegistroFactura")
			}
			continue
		case xml.StartElement:
			var x struct {
				Subsanacion   string `xml:"Subsanacion"`
				RechazoPrevio string `xml:"RechazoPrevio"`
			}
			if err := d.DecodeElement(&x, &t); err != nil {
				return Record{}, err
			}
			raw := bytes.Clone(body[start:d.InputOffset()])
			st, err := verifactu.ParseRecord(raw)
			if err != nil {
				return Record{}, err
			}
			// Nothing else may follow inside RegistroFactura.
			for {
				tok, err := d.Token()
				if err != nil {
					return Record{}, err
				}
				if _, ok := tok.(xml.EndElement); ok {
					return Record{Stored: st, Subsanacion: x.Subsanacion, RechazoPrevio: x.RechazoPrevio, XML: raw}, nil
				}
				if cd, ok := tok.(xml.CharData); !ok || len(bytes.TrimSpace(cd)) > 0 {
					return Record{}, errors.New("more than one element in RegistroFactura")
				}
			}
		default:
			return Record{}, fmt.Errorf("unexpected %T in RegistroFactura", tok)
		}
	}
}
