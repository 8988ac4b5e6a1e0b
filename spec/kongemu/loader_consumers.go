package kongemu

import (
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
)

// consumer reads a consumer with its credentials, groups and plugins.
func (l *loader) consumer(n *yaml.Node, path string) {
	var d deckConsumer
	where, ok := l.decodeEntity(n, "consumer", path, &d, "")
	if !ok {
		return
	}
	c := &Consumer{Tags: d.Tags}
	setString(&c.Username, d.Username)
	setString(&c.CustomID, d.CustomID)
	if c.Username == "" && c.CustomID == "" {
		l.fail(where, "at least one of these fields must be non-empty: 'custom_id', 'username'")
	}
	c.CreatedAt, c.UpdatedAt = l.timestamps(d.CreatedAt, d.UpdatedAt)
	c.ID = l.identify("consumers", d.ID, c.Username, path, where)
	l.unique("consumers", "username", c.Username, where)
	l.unique("consumers", "custom_id", c.CustomID, where)
	l.cfg.Consumers = append(l.cfg.Consumers, c)

	for i, cn := range nodes(d.KeyAuthCredentials) {
		l.credential(cn, fmt.Sprintf("%s.keyauth_credentials[%d]", path, i), c)
	}
	for i, g := range d.Groups {
		l.members = append(l.members, membership{consumer: c, ref: g, where: fmt.Sprintf("%s: groups[%d]", where, i)})
	}
	for i, pn := range nodes(d.Plugins) {
		l.plugin(pn, fmt.Sprintf("%s.plugins[%d]", path, i), "consumer", c.ID)
	}
}

// credential reads a keyauth_credential, nested in owner or at the top
// level (nil), where it needs a consumer reference.
func (l *loader) credential(n *yaml.Node, path string, owner *Consumer) {
	var d deckCredential
	exclude := ""
	if owner != nil {
		exclude = "consumer"
	}
	where, ok := l.decodeEntity(n, "keyauth_credential", path, &d, exclude)
	if !ok {
		return
	}
	k := &KeyAuthCredential{Tags: d.Tags}
	if d.Key != nil {
		k.Key = *d.Key
	} else {
		// Kong generates a random key; the emulator a stable one.
		k.Key = strings.ReplaceAll(entityID("keyauth_credentials", "#key#"+path), "-", "")
	}
	k.CreatedAt, _ = l.timestamps(d.CreatedAt, nil)
	k.ID = l.identify("keyauth_credentials", d.ID, k.Key, path, where)
	l.unique("keyauth_credentials", "key", k.Key, where)
	switch {
	case owner != nil:
		k.ConsumerID = owner.ID
	case d.Consumer.Set:
		l.creds = append(l.creds, pending[*KeyAuthCredential]{k, d.Consumer, where})
	default:
		l.fail(where, "consumer: required field missing")
	}
	l.cfg.KeyAuthCredentials = append(l.cfg.KeyAuthCredentials, k)
}

// consumerGroup reads a consumer group with its members and plugins.
func (l *loader) consumerGroup(n *yaml.Node, path string) {
	var d deckConsumerGroup
	where, ok := l.decodeEntity(n, "consumer_group", path, &d, "")
	if !ok {
		return
	}
	g := &ConsumerGroup{Tags: d.Tags}
	setString(&g.Name, d.Name)
	if g.Name == "" {
		l.fail(where, "name: required field missing")
	} else {
		l.check(where, "name", checkName(g.Name))
	}
	g.CreatedAt, g.UpdatedAt = l.timestamps(d.CreatedAt, d.UpdatedAt)
	g.ID = l.identify("consumer_groups", d.ID, g.Name, path, where)
	l.unique("consumer_groups", "name", g.Name, where)
	l.cfg.ConsumerGroups = append(l.cfg.ConsumerGroups, g)
	for i, c := range d.Consumers {
		l.members = append(l.members, membership{group: g, ref: c, where: fmt.Sprintf("%s: consumers[%d]", where, i)})
	}
	for i, pn := range nodes(d.Plugins) {
		l.plugin(pn, fmt.Sprintf("%s.plugins[%d]", path, i), "consumer_group", g.ID)
	}
}
