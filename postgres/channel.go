package postgres

import (
	"crypto/sha256"
	"encoding/hex"
)

// The NOTIFY channels, as named in the schema public: every transaction
// that records revocations notifies the first, every one that stores or
// revokes a signing key the second (ListenRevocations, ListenKeys).
const (
	revocationChannel = "jot_revocations"
	keyChannel        = "jot_keys"
)

// maxChannel is the longest channel name PostgreSQL takes, in bytes
// (NAMEDATALEN - 1).
const maxChannel = 63

// channels are the names of a DB's NOTIFY channels. Channels are per
// database, not per schema, so a DB qualifies them by the schema its
// connections use: deployments in two schemas of one database do not wake
// each other, and every instance in one schema hears the others.
type channels struct {
	revocations, keys string
}

// channelsFor returns the channels of a DB whose current_schema() is
// schema. In public, and when no schema exists on the search path (""),
// they keep their plain names, which every jot before the qualification
// used.
func channelsFor(schema string) channels {
	return channels{revocations: channelIn(revocationChannel, schema), keys: channelIn(keyChannel, schema)}
}

// channelIn returns the channel base in schema: base:schema, or, when
// that is longer than PostgreSQL allows, base# and a hash of schema.
func channelIn(base, schema string) string {
	if schema == "" || schema == "public" {
		return base
	}
	if name := base + ":" + schema; len(name) <= maxChannel {
		return name
	}
	sum := sha256.Sum256([]byte(schema))
	return base + "#" + hex.EncodeToString(sum[:16])
}

// all are the channels the listening connection listens on, whoever
// subscribed.
func (c channels) all() []string {
	return []string{c.revocations, c.keys}
}
