package demo

import (
	"context"
	"log/slog"

	"pulso/app/linktoken"
	"pulso/queries"
)

// seedCapture gives the Spanish demo org two assignment rules and a web
// form, so a fresh `make run` shows capture and assignment working: leads
// from the web in Sevilla go to Rosa, trade-fair leads rotate over Marcos's
// team. Only when the org has no rules and no forms yet.
func seedCapture(ctx context.Context, q *queries.Queries, keys linktoken.Keys, org queries.Org, users map[string]int64, log *slog.Logger) error {
	rosa, okRosa := users["rep@demo.test"]
	marcos, okMarcos := users["manager@demo.test"]
	if org.Country != "ES" || !okRosa || !okMarcos {
		return nil
	}
	rules, err := q.ListLeadRules(ctx, org.ID)
	if err != nil {
		return err
	}
	if len(rules) == 0 {
		for _, r := range []queries.CreateLeadRuleParams{
			{OrgID: org.ID, Name: "Web de Sevilla → Rosa", Source: "web_form", Field: "city", FieldOp: "equals", FieldValue: "Sevilla", Action: "user", UserID: &rosa},
			{OrgID: org.ID, Name: "Ferias por turnos (equipo de Marcos)", Tag: "feria", Action: "round_robin", TeamManagerID: &marcos},
		} {
			if _, err := q.CreateLeadRule(ctx, r); err != nil {
				return err
			}
		}
		if err := q.SetDefaultLeadOwner(ctx, queries.SetDefaultLeadOwnerParams{OrgID: org.ID, DefaultOwnerID: &marcos}); err != nil {
			return err
		}
		log.Info("seeded lead rules", "org", org.Name)
	}
	forms, err := q.ListLeadForms(ctx, org.ID)
	if err != nil {
		return err
	}
	if len(forms) == 0 {
		// Made like any form's token: the token is the only credential of
		// the public endpoint, demo or not.
		token, err := keys.Mint(linktoken.Form)
		if err != nil {
			return err
		}
		if _, err := q.CreateLeadForm(ctx, queries.CreateLeadFormParams{
			OrgID: org.ID, Name: "Formulario de contacto de la web", TokenHash: token.Hash, TokenNonce: token.Nonce,
		}); err != nil {
			return err
		}
		log.Info("seeded web form", "org", org.Name)
	}
	return nil
}
