package redisstore

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/rueidis"
)

// SenderRueidis is the value of FileOptions.Sender (stores.options.sender)
// that gives the authorization server's GrantStore a rueidis Sender.
const SenderRueidis = "rueidis"

// Limits of the file's Redis options.
const (
	maxFileAddrs   = 32
	maxFileAddrLen = 255
)

// FileOptions is the options map of kind "redis": stores.options in both
// files, and policy.watcher.options in the Guard's file. Exactly one of
// url, sentinel and cluster says where Redis is:
//
//	url: ${REDIS_URL}          # one Redis: redis:// or rediss:// (TLS), with user, password and db
//	sentinel:                  # or a Sentinel-managed master
//	  master: mymaster         #   REQUIRED: the name the sentinels monitor
//	  addrs: [10.0.0.1:26379, 10.0.0.2:26379, 10.0.0.3:26379]   # REQUIRED: host:port of the sentinels
//	  username: sentinel-user  #   OPTIONAL: the sentinels' ACL user
//	  password: ${SENTINEL_PASSWORD}  # OPTIONAL: exactly ${NAME}
//	cluster:                   # or a Redis Cluster
//	  addrs: [10.0.1.1:6379, 10.0.1.2:6379]  # REQUIRED: some nodes' host:port (seeds)
//	username: app              # sentinel and cluster: the data nodes' ACL user (with url: in the URL); needs +info
//	password: ${REDIS_PASSWORD}   # sentinel and cluster: exactly ${NAME} (with url: in the URL)
//	db: 0                      # sentinel only: database number (default 0; Cluster has only 0)
//	prefix: "{acme-prod}:"     # OPTIONAL: DefaultPrefix; one per deployment sharing a Redis
//	timeout: 1s                # OPTIONAL: DefaultTimeout, bound of each operation
//	quarantine: 12m            # OPTIONAL, authorization server only: DefaultQuarantine (at most 1h)
//	sender: rueidis            # OPTIONAL, authorization server only: ReplayConfig.Sender (below)
//	trust_append_fsync_always: false  # OPTIONAL, authorization server only: RefreshConfig.TrustAppendFsyncAlways (below)
//
// Every client is built with the bounds of [ClientOptions]: dial 1 s,
// read and write 500 ms, pool wait 500 ms, one command retry, each
// operation under timeout. A password is never written in the file: the
// loaders refuse a password value that is not exactly ${NAME} and a URL
// with a password that is not exactly ${NAME}. Unknown keys and wrongly
// typed values are errors naming the key. With cluster, prefix must hold a
// Redis Cluster hash tag ("{…}") so that each script's keys share a slot.
//
// sender: rueidis (experimental) gives the grant store a second client,
// rueidis, built like [SenderOptions] for the same Redis, so that the
// grant script's round trip is made while the access token is signed
// (ReplayConfig.Sender). It is bounded by [BoundSender], so that a grant
// answers 503 within 2 × timeout whatever Redis does (docs/deployment.md,
// "Time to a 503"); without it, within timeout. When it cannot reach Redis
// at start, the grant store runs without it (a warning says so).
//
// trust_append_fsync_always: true sets the broker's refresh store's
// RefreshConfig.TrustAppendFsyncAlways (default false): only for one
// redis-server without replicas, run with appendonly yes and appendfsync
// always (read the field's doc first). It is refused with sentinel (a
// Sentinel-managed master has replicas) and without a broker (no refresh
// store to apply it to).
type FileOptions struct {
	URL string
	// SentinelMaster and SentinelAddrs name a Sentinel-managed master;
	// SentinelUsername and SentinelPassword authenticate to the sentinels.
	SentinelMaster, SentinelUsername, SentinelPassword string
	SentinelAddrs                                      []string
	// ClusterAddrs are seed nodes of a Redis Cluster.
	ClusterAddrs []string
	// Username, Password and DB are the data nodes' credentials and
	// database, for Sentinel and Cluster (a URL carries its own).
	Username, Password string
	DB                 int
	Prefix             string
	Timeout            time.Duration
	Quarantine         time.Duration
	Sender             string
	// TrustAppendFsyncAlways is trust_append_fsync_always.
	TrustAppendFsyncAlways bool
}

// fileUse is who reads the options: what keys they may hold.
type fileUse int

const (
	useGuard   fileUse = iota // stores.options of the Guard's file
	useAS                     // stores.options of the authorization server's file
	useWatcher                // policy.watcher.options of the Guard's file
)

// ParseFileOptions reads stores.options. quarantine, sender and
// trust_append_fsync_always are accepted only when replay is true (the
// authorization server's file).
func ParseFileOptions(options map[string]any, replay bool) (FileOptions, error) {
	use := useGuard
	if replay {
		use = useAS
	}
	return parseFileOptions(options, use, "stores.options")
}

func parseFileOptions(options map[string]any, use fileUse, path string) (FileOptions, error) {
	var o FileOptions
	known := []string{"url", "sentinel", "cluster", "username", "password", "db", "prefix", "timeout"}
	if use == useAS {
		known = append(known, "quarantine", "sender", "trust_append_fsync_always")
	}
	at := func(k string) string { return path + "." + k }
	for _, k := range slices.Sorted(maps.Keys(options)) {
		v := options[k]
		if !slices.Contains(known, k) {
			return o, fmt.Errorf("%s: unknown key (known: %s)", at(k), strings.Join(known, ", "))
		}
		var err error
		switch k {
		case "url":
			o.URL, err = fileString(at(k), v)
		case "username":
			o.Username, err = fileString(at(k), v)
		case "password":
			o.Password, err = fileString(at(k), v)
		case "prefix":
			o.Prefix, err = fileString(at(k), v)
		case "sender":
			o.Sender, err = fileString(at(k), v)
			if err == nil && o.Sender != SenderRueidis {
				err = fmt.Errorf("%s: unknown sender %q (%s, or leave it out for go-redis alone)", at(k), o.Sender, SenderRueidis)
			}
		case "db":
			n, ok := v.(int)
			if !ok || n < 0 || n > 1<<16 {
				err = fmt.Errorf("%s: must be a database number (0, 1, …)", at(k))
			}
			o.DB = n
		case "timeout", "quarantine":
			var d time.Duration
			d, err = fileDuration(at(k), v)
			if k == "timeout" {
				o.Timeout = d
			} else {
				o.Quarantine = d
			}
		case "trust_append_fsync_always":
			var ok bool
			if o.TrustAppendFsyncAlways, ok = v.(bool); !ok {
				err = fmt.Errorf("%s: must be true or false", at(k))
			}
		case "sentinel":
			err = o.parseSentinel(at(k), v)
		case "cluster":
			var m map[string]any
			if m, err = fileMap(at(k), v, "addrs"); err == nil {
				o.ClusterAddrs, err = fileAddrs(at(k)+".addrs", m["addrs"])
			}
		}
		if err != nil {
			return o, err
		}
	}
	modes := 0
	for _, set := range []bool{o.URL != "", o.SentinelMaster != "", len(o.ClusterAddrs) > 0} {
		if set {
			modes++
		}
	}
	switch {
	case modes == 0:
		return o, fmt.Errorf("%s: one of url, sentinel or cluster is required (url: redis://host:6379/0 or rediss://…; use ${NAME} for a URL with a password)", path)
	case modes > 1:
		return o, fmt.Errorf("%s: url, sentinel and cluster exclude each other", path)
	case o.URL != "" && (o.Username != "" || o.Password != "" || options["db"] != nil):
		return o, fmt.Errorf("%s: username, password and db go into the url", path)
	case len(o.ClusterAddrs) > 0 && options["db"] != nil:
		return o, fmt.Errorf("%s.db: Redis Cluster has only database 0", path)
	case o.TrustAppendFsyncAlways && o.SentinelMaster != "":
		return o, fmt.Errorf("%s.trust_append_fsync_always: a Sentinel-managed master has replicas, and a failover to one may lose acknowledged writes", path)
	case len(o.ClusterAddrs) > 0 && o.Prefix != "" && !hasHashTag(o.Prefix):
		return o, fmt.Errorf("%s.prefix: with cluster it must hold a hash tag such as \"{acme-prod}:\", so that each script's keys are in one slot", path)
	}
	return o, nil
}

func (o *FileOptions) parseSentinel(path string, v any) error {
	m, err := fileMap(path, v, "master", "addrs", "username", "password")
	if err != nil {
		return err
	}
	for _, k := range []string{"master", "username", "password"} {
		if m[k] == nil {
			continue
		}
		s, err := fileString(path+"."+k, m[k])
		if err != nil {
			return err
		}
		switch k {
		case "master":
			o.SentinelMaster = s
		case "username":
			o.SentinelUsername = s
		case "password":
			o.SentinelPassword = s
		}
	}
	if o.SentinelMaster == "" {
		return fmt.Errorf("%s.master: is required (the master name the sentinels monitor)", path)
	}
	o.SentinelAddrs, err = fileAddrs(path+".addrs", m["addrs"])
	return err
}

// hasHashTag reports whether key names starting with prefix hash on the
// prefix's first {…} (a non-empty tag), as Redis Cluster computes slots.
func hasHashTag(prefix string) bool {
	i := strings.IndexByte(prefix, '{')
	if i < 0 {
		return false
	}
	j := strings.IndexByte(prefix[i+1:], '}')
	return j > 0
}

func fileString(path string, v any) (string, error) {
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("%s: must be a string (quote a ${NAME} whose value looks like a number: \"${NAME}\")", path)
	}
	return s, nil
}

func fileDuration(path string, v any) (time.Duration, error) {
	s, ok := v.(string)
	d, err := time.ParseDuration(s)
	if !ok || err != nil || d <= 0 {
		return 0, fmt.Errorf("%s: must be a positive duration such as 1s", path)
	}
	return d, nil
}

func fileMap(path string, v any, known ...string) (map[string]any, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s: must be a mapping", path)
	}
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if !slices.Contains(known, k) {
			return nil, fmt.Errorf("%s.%s: unknown key (known: %s)", path, k, strings.Join(known, ", "))
		}
	}
	return m, nil
}

// fileAddrs reads a non-empty list of at most maxFileAddrs host:port.
func fileAddrs(path string, v any) ([]string, error) {
	list, ok := v.([]any)
	if !ok || len(list) == 0 {
		return nil, fmt.Errorf("%s: is required: a list of host:port", path)
	}
	if len(list) > maxFileAddrs {
		return nil, fmt.Errorf("%s: at most %d addresses", path, maxFileAddrs)
	}
	out := make([]string, 0, len(list))
	for i, e := range list {
		s, ok := e.(string)
		if !ok || len(s) > maxFileAddrLen {
			return nil, fmt.Errorf("%s[%d]: must be host:port", path, i)
		}
		if _, port, err := net.SplitHostPort(s); err != nil || port == "" {
			return nil, fmt.Errorf("%s[%d]: %q is not host:port", path, i, s)
		}
		if slices.Contains(out, s) {
			return nil, fmt.Errorf("%s[%d]: %q is listed twice", path, i, s)
		}
		out = append(out, s)
	}
	return out, nil
}

// where names the Redis the options reach, for logs: never a URL (it may
// hold a password).
func (o FileOptions) where() string {
	switch {
	case o.SentinelMaster != "":
		return fmt.Sprintf("sentinel master %q via %s", o.SentinelMaster, strings.Join(o.SentinelAddrs, ","))
	case len(o.ClusterAddrs) > 0:
		return "cluster via " + strings.Join(o.ClusterAddrs, ",")
	}
	return "url"
}

// clusterReloadInterval is how often a Cluster client built from the
// file re-reads the slot map (CLUSTER SLOTS, lazily: on the first command
// after the interval).
const clusterReloadInterval = time.Second

// boundedTimeouts are ClientOptions' bounds, for the Sentinel and Cluster
// clients, which have no URL.
func boundedTimeouts(dial, read, write, pool *time.Duration, retries, dialRetries *int, ctxTimeout *bool) {
	*dial, *read, *write, *pool = DefaultDialTimeout, DefaultReadTimeout, DefaultWriteTimeout, DefaultPoolTimeout
	*retries, *dialRetries, *ctxTimeout = 1, 1, true
}

// client builds the go-redis client the options name: a Client, a
// FailoverClient (Sentinel) or a ClusterClient, with bounded timeouts.
func (o FileOptions) client(path string) (redis.UniversalClient, error) {
	switch {
	case o.SentinelMaster != "":
		fo := &redis.FailoverOptions{
			MasterName: o.SentinelMaster, SentinelAddrs: o.SentinelAddrs,
			SentinelUsername: o.SentinelUsername, SentinelPassword: o.SentinelPassword,
			Username: o.Username, Password: o.Password, DB: o.DB,
		}
		boundedTimeouts(&fo.DialTimeout, &fo.ReadTimeout, &fo.WriteTimeout, &fo.PoolTimeout, &fo.MaxRetries, &fo.DialerRetries, &fo.ContextTimeoutEnabled)
		return redis.NewFailoverClient(fo), nil
	case len(o.ClusterAddrs) > 0:
		// go-redis re-reads the slot map on MOVED, but not when a
		// master stops answering: without a short reload interval (its
		// default is 60 s) the client would keep dialing a dead master
		// long after its replica took over (TestFileRedisClusterFailover).
		co := &redis.ClusterOptions{Addrs: o.ClusterAddrs, Username: o.Username, Password: o.Password,
			ClusterStateReloadInterval: clusterReloadInterval}
		boundedTimeouts(&co.DialTimeout, &co.ReadTimeout, &co.WriteTimeout, &co.PoolTimeout, &co.MaxRetries, &co.DialerRetries, &co.ContextTimeoutEnabled)
		return redis.NewClusterClient(co), nil
	}
	ro, err := ClientOptions(o.URL)
	if err != nil {
		return nil, fmt.Errorf("%s.url: %w", path, err)
	}
	return redis.NewClient(ro), nil
}

// sender builds the rueidis client of sender: rueidis, for the same Redis
// as client, with SenderOptions' settings, bounded by BoundSender.
func (o FileOptions) sender() (rueidis.Client, error) {
	var so rueidis.ClientOption
	switch {
	case o.SentinelMaster != "":
		so = rueidis.ClientOption{
			InitAddress: o.SentinelAddrs, Username: o.Username, Password: o.Password, SelectDB: o.DB,
			Sentinel: rueidis.SentinelOption{MasterSet: o.SentinelMaster, Username: o.SentinelUsername, Password: o.SentinelPassword},
		}
		so.Dialer.Timeout, so.ConnWriteTimeout = DefaultDialTimeout, DefaultWriteTimeout
		so.BlockingPoolSize, so.DisableCache = senderStreams(), true
	case len(o.ClusterAddrs) > 0:
		return nil, errors.New("stores.options.sender: not available with cluster")
	default:
		var err error
		if so, err = SenderOptions(o.URL); err != nil {
			return nil, fmt.Errorf("stores.options.url: %w", err)
		}
	}
	BoundSender(&so, o.Timeout)
	c, err := rueidis.NewClient(so)
	if err != nil {
		// An unreachable Redis at start must not fail the factory: the
		// grant store then runs without the Sender (go-redis alone, with
		// the same answers), and the log says so.
		return nil, fmt.Errorf("%w: %v", errSenderUnavailable, withoutURL(err))
	}
	return c, nil
}

var errSenderUnavailable = errors.New("rueidis sender unavailable")

// closers closes several clients.
type closers []io.Closer

func (cs closers) Close() error {
	var errs []error
	for _, c := range cs {
		errs = append(errs, c.Close())
	}
	return errors.Join(errs...)
}

// rueidisCloser adapts rueidis.Client's Close to io.Closer.
type rueidisCloser struct{ rueidis.Client }

func (c rueidisCloser) Close() error { c.Client.Close(); return nil }
