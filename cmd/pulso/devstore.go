package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"pulso/app/checkout/checkoutfake"
	"pulso/app/config"
	"pulso/app/demo"
	"pulso/app/store"
	"pulso/app/store/mercadolibre"
	"pulso/app/store/mercadolibre/mlfake"
)

// The demo's fake Mercado Libre: Pulso's app and the store org's seller.
const (
	devMLClientID = "4200000000000001"
	devMLSeller   = int64(730000001)
	devMLNickname = "TIENDA_AUSTRAL"
	// devMLOrders is how many paid orders the seller has on each start:
	// the same ones every time (mlfake.Seed is deterministic), so a
	// restart finds its vouchers made and makes none twice.
	devMLOrders = 24
	// devMLEvery is how often a new order is sold while the demo runs,
	// arriving by notification like a real sale.
	devMLEvery = 3 * time.Minute
	// devMLRefund is what the first paid seeded sale gave back (ARS).
	devMLRefund = "1000"
)

// startDemoStore runs a fake Mercado Libre inside `pulso dev` and connects
// the demo's store org to it through the OAuth round trip, as its admin
// would from Configuración › Integraciones: the sweep then brings its
// orders in as vouchers, and a new sale arrives by notification every few
// minutes. With PULSO_ML_CLIENT_ID set, or without the store org, it
// only leaves the configuration alone.
func startDemoStore(ctx context.Context, pool *pgxpool.Pool, cfg *config.Config, log *slog.Logger) (stop func(), err error) {
	stop = func() {}
	if cfg.MLClientID != "" {
		return stop, nil
	}
	var orgID, adminID int64
	err = pool.QueryRow(ctx, `SELECT o.id, u.id FROM orgs o JOIN users u ON u.org_id = o.id AND u.role = 'admin'
		WHERE o.name = $1 ORDER BY u.id LIMIT 1`, demo.StoreOrgName).Scan(&orgID, &adminID)
	if errors.Is(err, pgx.ErrNoRows) {
		return stop, nil
	}
	if err != nil {
		return stop, err
	}
	secret := rand.Text()
	fake, base, closeFake := mlfake.Start()
	cfg.MLClientID, cfg.MLClientSecret, cfg.MLAuthURL, cfg.MLAPIURL = devMLClientID, secret, base, base
	fake.AddApp(devMLClientID, secret, cfg.MLRedirectURI())
	fake.AddSeller(devMLSeller, devMLNickname)
	fake.LoginAs(devMLSeller)
	fake.SetCallback(strings.TrimSuffix(cfg.BaseURL.String(), "/") + config.MLNotifyPath)
	ids := fake.Seed(devMLSeller, devMLOrders, time.Now().Add(-devMLOrders*47*time.Minute))
	// One sale partly refunded, so the demo shows its credit note next to
	// its voucher (credited once however often the demo starts).
	for _, id := range ids {
		if o, ok := fake.Order(id); ok && o.Status == "paid" {
			fake.PutOrder(o.Refund(devMLRefund))
			break
		}
	}

	keys, err := cfg.SealedKeys()
	if err != nil {
		closeFake()
		return stop, err
	}
	st := &store.Store{DB: pool, Keys: keys, Log: log, ML: mercadolibre.New(cfg.MercadoLibre())}
	if err := devConnect(ctx, st, orgID, adminID); err != nil {
		closeFake()
		return stop, fmt.Errorf("demo store: connecting the fake seller: %w", err)
	}
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		devSell(sctx, fake, log)
	}()
	log.Info("demo: a fake Mercado Libre sells for the store org", "url", base, "org", demo.StoreOrgName,
		"orders", devMLOrders, "a_new_sale_every", devMLEvery.String())
	return func() { cancel(); <-done; closeFake() }, nil
}

// devConnect is the admin's OAuth round trip against the fake: the
// browser's redirects followed by hand, the code and state handed to the
// same Complete the redirect page calls.
func devConnect(ctx context.Context, st *store.Store, orgID, adminID int64) error {
	auth, err := st.Begin(ctx, orgID, adminID)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, auth, nil)
	if err != nil {
		return err
	}
	hc := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	back, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || back.Query().Get("code") == "" {
		return fmt.Errorf("authorization answered %d without a code (%q)", resp.StatusCode, resp.Header.Get("Location"))
	}
	_, err = st.Complete(ctx, orgID, adminID, back.Query().Get("state"), back.Query().Get("code"), time.Now())
	return err
}

// devSell sells one item every devMLEvery until ctx ends, with an id
// no other start of the demo used (seconds since the epoch).
func devSell(ctx context.Context, fake *mlfake.Server, log *slog.Logger) {
	items := []mlfake.Item{
		{ID: "MLA1100000003", Title: "Cargador USB-C 20W", SKU: "SKU-CAR-03", Quantity: 1, UnitPrice: "8999"},
		{ID: "MLA1100000006", Title: "Cable HDMI 2 m", SKU: "SKU-CAB-06", Quantity: 2, UnitPrice: "3200"},
		{ID: "MLA1100000002", Title: "Funda de silicona para celular", SKU: "SKU-FUN-02", Quantity: 1, UnitPrice: "4500.50"},
	}
	t := time.NewTicker(devMLEvery)
	defer t.Stop()
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			id := 2000002000000000 + now.Unix()
			fake.PutOrder(mlfake.NewOrder(devMLSeller, id, items[i%len(items)]).Paid())
			fake.Notify(id)
			log.Info("demo: the fake store sold an order", "order_id", id)
		}
	}
}

// startDemoPayments runs a fake hosted checkout inside `pulso dev`, so an
// admin can pay a plan upgrade from Autogestión › Suscripción on its page
// and see the plan change when its signed webhook arrives. With
// PULSO_PAYMENTS_URL set it does nothing.
func startDemoPayments(cfg *config.Config, log *slog.Logger) (stop func()) {
	if cfg.PaymentsURL != "" {
		return func() {}
	}
	fake := checkoutfake.Start()
	secret := []byte(rand.Text())
	fake.SetWebhook(strings.TrimSuffix(cfg.BaseURL.String(), "/")+config.PaymentsWebhookPath, secret)
	cfg.PaymentsURL, cfg.PaymentsToken, cfg.PaymentsWebhookSecret = fake.URL(), checkoutfake.Token, secret
	log.Info("demo: a fake payment provider takes plan upgrades", "url", fake.URL())
	return fake.Close
}
