package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// States a verified domain moves to once its mail records are checked
// (tenant_domains.status; see DomainPending for the others).
const (
	// DomainReady: every service record is published; mail works.
	DomainReady = "ready"
	// DomainRecordsMissing: the checks ended with records not published;
	// the domain stays verified at the tenant, records_note names them.
	DomainRecordsMissing = "records_missing"
)

// DomainIsVerified tells a status whose domain is verified at the tenant,
// so users may live in it, whatever became of its mail records.
func DomainIsVerified(status string) bool {
	return status == DomainVerified || status == DomainReady || status == DomainRecordsMissing
}

// ServiceRecord is one DNS record a verified domain needs for mail, as the
// tenant gave it: Type is "MX", "CNAME" or "TXT".
type ServiceRecord struct {
	Type       string
	Name       string
	Value      string
	Preference int
	TTL        int
	Published  bool       // seen in DNS at the last check
	CheckedAt  *time.Time // the last check; nil before the first
}

// SetDomainRecords keeps the service records of the domain's current
// attempt in the given order. It is safe to repeat (an activity retried
// after a lost answer): records already kept keep their published state.
func (s *Store) SetDomainRecords(ctx context.Context, domain string, recs []ServiceRecord) error {
	return pgx.BeginFunc(ctx, s.db(ctx), func(tx pgx.Tx) error {
		d, err := domainOf(ctx, tx, domain)
		if err != nil {
			return err
		}
		for i, r := range recs {
			if _, err := tx.Exec(ctx, `INSERT INTO tenant_domain_records (domain, attempt, position, record_type, name, value, preference, ttl)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
				ON CONFLICT (domain, attempt, record_type, name, value) DO UPDATE SET position = EXCLUDED.position`,
				domain, d.Attempt, i, r.Type, r.Name, r.Value, r.Preference, r.TTL); err != nil {
				return err
			}
		}
		return nil
	})
}

// DomainRecords lists the service records of the domain's current attempt
// in the tenant's order; none before the domain is verified.
func (s *Store) DomainRecords(ctx context.Context, domain string) ([]ServiceRecord, error) {
	return domainRecords(ctx, s, domain)
}

func domainRecords(ctx context.Context, s *Store, domain string) ([]ServiceRecord, error) {
	rows, err := s.db(ctx).Query(ctx, `SELECT r.record_type, r.name, r.value, r.preference, r.ttl, r.published, r.checked_at
		FROM tenant_domain_records r JOIN tenant_domains d ON d.domain = r.domain AND d.attempt = r.attempt
		WHERE r.domain = $1 ORDER BY r.position, r.record_type, r.name`, domain)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (ServiceRecord, error) {
		var r ServiceRecord
		err := row.Scan(&r.Type, &r.Name, &r.Value, &r.Preference, &r.TTL, &r.Published, &r.CheckedAt)
		return r, err
	})
}

// MarkDomainRecord records what one check of a service record saw.
func (s *Store) MarkDomainRecord(ctx context.Context, domain string, r ServiceRecord, published bool) error {
	_, err := s.db(ctx).Exec(ctx, `UPDATE tenant_domain_records SET published = $5, checked_at = now()
		WHERE domain = $1 AND attempt = (SELECT attempt FROM tenant_domains WHERE domain = $1)
		AND record_type = $2 AND name = $3 AND value = $4`, domain, r.Type, r.Name, r.Value, published)
	return err
}

// DomainRecordsDone ends the checks of a verified domain's mail records:
// ready, or records_missing with note naming what was not seen. Only a
// verified domain moves, so a repeat (a retried activity) changes nothing
// and writes no second event.
func (s *Store) DomainRecordsDone(ctx context.Context, domain string, ready bool, note string) error {
	return pgx.BeginFunc(ctx, s.db(ctx), func(tx pgx.Tx) error {
		d, err := domainOf(ctx, tx, domain)
		if err != nil {
			return err
		}
		if err := lockOrder(ctx, tx, d.OrderID); err != nil {
			return err
		}
		status, reason := DomainRecordsMissing, "domain "+domain+" records missing: "+note
		if ready {
			status, reason = DomainReady, "domain "+domain+" ready for mail"
		}
		tag, err := tx.Exec(ctx, `UPDATE tenant_domains SET status = $2, records_note = $3 WHERE domain = $1 AND status = 'verified'`,
			domain, status, note)
		if err != nil || tag.RowsAffected() == 0 {
			return err
		}
		return insertEvent(ctx, tx, d.OrderID, fmt.Sprintf("domain_%s:%s#%d", status, domain, d.Attempt), "installer_ready", reason, "system")
	})
}
