package config

import "pulso/app/linktoken"

// LinkKeys derives, under PULSO_SECRET, the tokens of links that open
// something without a session (app/linktoken). Every node must share the
// secret: a worker mails links the web nodes must recognise.
func (c Config) LinkKeys() linktoken.Keys { return linktoken.New(c.Secret) }
