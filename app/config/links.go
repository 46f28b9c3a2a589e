package config

import (
	"pulso/app/linktoken"
	"pulso/app/sealed"
)

// LinkKeys derives, under PULSO_SECRET, the tokens of links that open
// something without a session (app/linktoken). Every node must share the
// secret: a worker mails links the web nodes must recognise.
func (c Config) LinkKeys() linktoken.Keys { return linktoken.New(c.Secret) }

// SealedKeys encrypts small secrets kept in the database (an org's
// certificate and its password) under a key derived from PULSO_SECRET
// (app/sealed). Every node must share the secret: the worker opens what
// the web node sealed.
func (c Config) SealedKeys() (sealed.Keys, error) { return sealed.New(c.Secret) }
