// A franz-go session: kadm's admin calls, kgo producers with every codec and acks setting, and
// a classic consumer group that reads everything back, commits, and rebalances onto a second
// member. It prints what it read back, one line per fact, for tests/interop_go.rs to compare;
// it exits non-zero only when a call fails outright.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

const (
	topic      = "fz-topic"
	doomed     = "fz-doomed"
	group      = "fz-group"
	partitions = 3
	// Records per producer stream: two per partition, so every batch can hold more than one.
	perStream = 6
	// Records produced after the second member joined, per partition.
	late     = 4
	baseTime = int64(1700000000000)
)

var codecs = []struct {
	name  string
	codec kgo.CompressionCodec
}{
	{"none", kgo.NoCompression()},
	{"gzip", kgo.GzipCompression()},
	{"snappy", kgo.SnappyCompression()},
	{"lz4", kgo.Lz4Compression()},
	{"zstd", kgo.ZstdCompression()},
}

var codecNames = map[uint8]string{0: "none", 1: "gzip", 2: "snappy", 3: "lz4", 4: "zstd"}

var acks = []struct {
	name string
	acks kgo.Acks
}{
	{"all", kgo.AllISRAcks()},
	{"leader", kgo.LeaderAck()},
	{"none", kgo.NoAck()},
}

var ctx = context.Background()

func must(err error, what string) {
	if err != nil {
		fmt.Fprintf(os.Stderr, "FAIL %s: %v\n", what, err)
		os.Exit(1)
	}
}

func fail(what string, format string, args ...any) {
	must(fmt.Errorf(format, args...), what)
}

// The Kafka name of an error code an API answered with, or the error itself.
func errName(err error) string {
	if err == nil {
		return "NONE"
	}
	var ke *kerr.Error
	if errors.As(err, &ke) {
		return ke.Message
	}
	return err.Error()
}

func main() {
	addr := os.Args[1]
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ClientID("franz-admin"))
	must(err, "admin client")
	defer cl.Close()
	adm := kadm.NewClient(cl)

	ids := admin(cl, adm, addr)
	produce(adm, addr)
	consume(adm, addr)
	offsets(adm)
	listTopics(adm, "after-delete", ids)
}

// Creates the two topics, describes the cluster, the topics and their configs, deletes one.
func admin(cl *kgo.Client, adm *kadm.Client, addr string) map[string]kadm.TopicID {
	ids := map[string]kadm.TopicID{}
	for _, t := range []struct {
		name string
		n    int32
	}{{topic, partitions}, {doomed, 1}} {
		resp, err := adm.CreateTopic(ctx, t.n, 1, nil, t.name)
		must(err, "create "+t.name)
		ids[t.name] = resp.ID
		fmt.Printf("created %s partitions=%d rf=%d id=%v err=%s\n",
			resp.Topic, resp.NumPartitions, resp.ReplicationFactor, resp.ID != kadm.TopicID{}, errName(resp.Err))
		created := []string{}
		for _, k := range []string{"cleanup.policy", "max.message.bytes", "message.timestamp.type", "segment.bytes"} {
			c, ok := resp.Configs[k]
			if !ok {
				created = append(created, k+"=missing")
				continue
			}
			created = append(created, fmt.Sprintf("%s=%s(%s)", k, c.MaybeValue(), c.Source))
		}
		fmt.Printf("created-configs %s %s\n", resp.Topic, strings.Join(created, " "))
	}
	again, err := adm.CreateTopic(ctx, 1, 1, nil, topic)
	if err == nil {
		err = again.Err
	}
	fmt.Printf("create-again %s err=%s\n", topic, errName(err))

	meta, err := adm.BrokerMetadata(ctx)
	must(err, "broker metadata")
	brokers := []string{}
	for _, b := range meta.Brokers {
		brokers = append(brokers, fmt.Sprintf("%d@%s:%d", b.NodeID, b.Host, b.Port))
	}
	fmt.Printf("metadata brokers=%d seed-listed=%v controller=%d\n",
		len(meta.Brokers), strings.Join(brokers, ",") == fmt.Sprintf("%d@%s", meta.Controller, addr), meta.Controller)

	dc, err := kmsg.NewPtrDescribeClusterRequest().RequestWith(ctx, cl)
	must(err, "describe cluster")
	if err := kerr.ErrorForCode(dc.ErrorCode); err != nil {
		fail("describe cluster", "%v", err)
	}
	fmt.Printf("describe-cluster brokers=%d controller=%d same-cluster=%v\n",
		len(dc.Brokers), dc.ControllerID, dc.ClusterID == meta.Cluster && meta.Cluster != "")

	listTopics(adm, "topics", ids)

	tc, err := adm.DescribeTopicConfigs(ctx, topic)
	must(err, "describe topic configs")
	// min.insync.replicas is left out: Kafka 4.1+ formats a new cluster with eligible leader
	// replicas on, which adds a cluster-level (dynamic) min.insync.replicas, and minikafka
	// formats as 3.9 does, so the value agrees and its source does not.
	fmt.Println("topic-configs", configs(tc, "cleanup.policy", "compression.type",
		"max.message.bytes", "message.timestamp.type", "segment.bytes"))
	bc, err := adm.DescribeBrokerConfigs(ctx, meta.Controller)
	must(err, "describe broker configs")
	fmt.Println("broker-configs", configs(bc, "log.segment.bytes", "message.max.bytes", "num.partitions"))

	del, err := adm.DeleteTopics(ctx, doomed)
	must(err, "delete topics")
	for _, d := range del.Sorted() {
		fmt.Printf("deleted %s err=%s\n", d.Topic, errName(d.Err))
	}
	return ids
}

// Prints the topics (internal ones left out) with each partition's leader, replicas and ISR,
// and whether the id is the one CreateTopics gave. A created or deleted topic reaches a
// broker's metadata a moment after the controller answered, so the listing is waited for
// (with a deadline) until the doomed topic is there or gone, as expected.
func listTopics(adm *kadm.Client, label string, ids map[string]kadm.TopicID) {
	deadline := time.Now().Add(15 * time.Second)
	var topics kadm.TopicDetails
	for {
		var err error
		topics, err = adm.ListTopics(ctx)
		must(err, "list topics")
		_, listed := topics[doomed]
		settled := topics.Has(topic) && len(topics[topic].Partitions) == partitions && listed == (label == "topics")
		if settled || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	out := []string{}
	for _, name := range topics.Names() {
		t := topics[name]
		ps := []string{}
		for _, p := range t.Partitions.Sorted() {
			ps = append(ps, fmt.Sprintf("%d:L%d:R%v:I%v", p.Partition, p.Leader, p.Replicas, p.ISR))
		}
		out = append(out, fmt.Sprintf("%s[id=%v %s]", name, t.ID == ids[name], strings.Join(ps, " ")))
	}
	fmt.Println(label, strings.Join(out, ","))
}

func configs(rcs kadm.ResourceConfigs, keys ...string) string {
	if len(rcs) != 1 {
		fail("configs", "%d resources", len(rcs))
	}
	if rcs[0].Err != nil {
		fail("configs", "%v", rcs[0].Err)
	}
	out := []string{}
	for _, k := range keys {
		found := false
		for _, c := range rcs[0].Configs {
			if c.Key == k {
				out = append(out, fmt.Sprintf("%s=%s(%s)", k, c.MaybeValue(), c.Source))
				found = true
			}
		}
		if !found {
			out = append(out, k+"=missing")
		}
	}
	return strings.Join(out, " ")
}

// The record that stream s (acks-major, then codec) sends i-th.
func record(s, i int, acksName, codecName string) *kgo.Record {
	r := &kgo.Record{
		Topic:     topic,
		Partition: int32(i % partitions),
		Key:       []byte(fmt.Sprintf("k-%s-%s-%d", acksName, codecName, i)),
		Value:     []byte(fmt.Sprintf("v-%s-%s-%d-%s", acksName, codecName, i, strings.Repeat("x", 40))),
		Headers: []kgo.RecordHeader{
			{Key: "acks", Value: []byte(acksName)},
			{Key: "codec", Value: []byte(codecName)},
			{Key: "i", Value: []byte(fmt.Sprint(i))},
		},
		Timestamp: time.UnixMilli(baseTime + int64(s*10+i)),
	}
	// One record without a key and one with an empty value: null and empty must survive.
	if i == 4 {
		r.Key = nil
	}
	if i == 5 {
		r.Value = []byte{}
	}
	return r
}

// One producer per (acks, codec), one after the other, so that the order in each partition is
// known. acks=0 gets no answer: its records are waited for in the end offsets instead.
func produce(adm *kadm.Client, addr string) {
	sent := int64(0)
	for a, ak := range acks {
		for c, cd := range codecs {
			s := a*len(codecs) + c
			opts := []kgo.Opt{
				kgo.SeedBrokers(addr),
				kgo.ClientID("franz-producer"),
				kgo.RecordPartitioner(kgo.ManualPartitioner()),
				kgo.ProducerBatchCompression(cd.codec),
				kgo.RequiredAcks(ak.acks),
			}
			if ak.name != "all" {
				// Idempotence needs acks=all.
				opts = append(opts, kgo.DisableIdempotentWrite())
			}
			p, err := kgo.NewClient(opts...)
			must(err, "producer")
			recs := []*kgo.Record{}
			for i := 0; i < perStream; i++ {
				recs = append(recs, record(s, i, ak.name, cd.name))
			}
			res := p.ProduceSync(ctx, recs...)
			must(res.FirstErr(), "produce "+ak.name+"/"+cd.name)
			sent += perStream
			if ak.name == "none" {
				waitEndOffsets(adm, sent)
				fmt.Printf("produced %s/%s unacknowledged, in the log\n", ak.name, cd.name)
			} else {
				// Results come in the order the partitions answered.
				sort.Slice(res, func(i, j int) bool {
					ri, rj := res[i].Record, res[j].Record
					return ri.Partition < rj.Partition || ri.Partition == rj.Partition && ri.Offset < rj.Offset
				})
				offs := []string{}
				for _, r := range res {
					offs = append(offs, fmt.Sprintf("%d:%d", r.Record.Partition, r.Record.Offset))
				}
				fmt.Printf("produced %s/%s %s\n", ak.name, cd.name, strings.Join(offs, ","))
			}
			p.Close()
		}
	}
}

func endOffsets(adm *kadm.Client) kadm.ListedOffsets {
	ends, err := adm.ListEndOffsets(ctx, topic)
	must(err, "list end offsets")
	must(ends.Error(), "list end offsets")
	return ends
}

func waitEndOffsets(adm *kadm.Client, want int64) {
	deadline := time.Now().Add(15 * time.Second)
	for {
		total := int64(0)
		endOffsets(adm).Each(func(o kadm.ListedOffset) { total += o.Offset })
		if total == want {
			return
		}
		if time.Now().After(deadline) {
			fail("acks=0 records", "end offsets add up to %d, want %d", total, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A group member that notes what it owns.
type member struct {
	name  string
	cl    *kgo.Client
	mu    sync.Mutex
	owned map[int32]bool
	got   []*kgo.Record
}

func newMember(name, addr string) *member {
	m := &member{name: name, owned: map[int32]bool{}}
	cl, err := kgo.NewClient(
		kgo.SeedBrokers(addr),
		kgo.ClientID("franz-"+name),
		kgo.ConsumerGroup(group),
		kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.Balancers(kgo.CooperativeStickyBalancer()),
		kgo.DisableAutoCommit(),
		kgo.FetchMaxWait(200*time.Millisecond),
		kgo.OnPartitionsAssigned(func(_ context.Context, _ *kgo.Client, a map[string][]int32) {
			m.mu.Lock()
			defer m.mu.Unlock()
			for _, p := range a[topic] {
				m.owned[p] = true
			}
		}),
		kgo.OnPartitionsRevoked(func(ctx context.Context, cl *kgo.Client, r map[string][]int32) {
			// What was read from a partition is committed before another member gets it.
			must(cl.CommitUncommittedOffsets(ctx), m.name+" commit on revoke")
			m.mu.Lock()
			defer m.mu.Unlock()
			for _, p := range r[topic] {
				delete(m.owned, p)
			}
		}),
	)
	must(err, "consumer "+name)
	m.cl = cl
	return m
}

func (m *member) ownedList() []int32 {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := []int32{}
	for p := range m.owned {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// Polls until the members together hold n new records or the deadline passes.
func pollUntil(n int, ms ...*member) {
	deadline := time.Now().Add(30 * time.Second)
	for {
		total := 0
		for _, m := range ms {
			total += len(m.got)
		}
		if total >= n {
			return
		}
		if time.Now().After(deadline) {
			fail("consume", "%d of %d records", total, n)
		}
		for _, m := range ms {
			pctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
			f := m.cl.PollFetches(pctx)
			cancel()
			f.EachError(func(t string, p int32, err error) {
				if !errors.Is(err, context.DeadlineExceeded) {
					fail("fetch", "%s/%d: %v", t, p, err)
				}
			})
			m.got = append(m.got, f.Records()...)
		}
	}
}

func printRecord(label string, r *kgo.Record) {
	key := "<null>"
	if r.Key != nil {
		key = string(r.Key)
	}
	hs := []string{}
	for _, h := range r.Headers {
		hs = append(hs, h.Key+"="+string(h.Value))
	}
	pid := "plain"
	if r.ProducerID >= 0 {
		pid = "idempotent"
	}
	fmt.Printf("%s %d %d %s %q %s %d %s %s\n", label, r.Partition, r.Offset, key, r.Value,
		strings.Join(hs, ","), r.Timestamp.UnixMilli(), codecNames[r.Attrs.CompressionType()], pid)
}

// Each partition's records in the order the member received them.
func printByPartition(label string, recs []*kgo.Record) {
	for p := int32(0); p < partitions; p++ {
		for _, r := range recs {
			if r.Partition == p {
				printRecord(label, r)
			}
		}
	}
}

func consume(adm *kadm.Client, addr string) {
	a := newMember("a", addr)
	total := len(acks) * len(codecs) * perStream
	pollUntil(total, a)
	printByPartition("rec", a.got)
	must(a.cl.CommitUncommittedOffsets(ctx), "commit")
	fmt.Println("owned-alone a", a.ownedList())

	b := newMember("b", addr)
	deadline := time.Now().Add(30 * time.Second)
	for {
		oa, ob := a.ownedList(), b.ownedList()
		if len(oa) > 0 && len(ob) > 0 && len(oa)+len(ob) == partitions {
			fmt.Printf("owned-shared a=%d b=%d\n", len(oa), len(ob))
			break
		}
		if time.Now().After(deadline) {
			fail("rebalance", "a owns %v, b owns %v", oa, ob)
		}
		// Polling drives both members while the group rebalances in the background.
		pctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		a.cl.PollFetches(pctx)
		b.cl.PollFetches(pctx)
		cancel()
	}
	dg, err := adm.DescribeGroups(ctx, group)
	must(err, "describe group")
	describeGroup("described", dg[group])

	// Records written after the rebalance go to whoever owns their partition now; b starts
	// from a's commits, so it sees only these.
	p, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.ProducerBatchCompression(kgo.Lz4Compression()))
	must(err, "late producer")
	recs := []*kgo.Record{}
	for i := 0; i < late*partitions; i++ {
		recs = append(recs, &kgo.Record{Topic: topic, Partition: int32(i % partitions),
			Key: []byte(fmt.Sprintf("late-%d", i)), Value: []byte(fmt.Sprintf("after-rebalance-%d", i)),
			Timestamp: time.UnixMilli(baseTime + 1000 + int64(i))})
	}
	must(p.ProduceSync(ctx, recs...).FirstErr(), "late produce")
	p.Close()
	a.got, b.got = nil, nil
	pollUntil(late*partitions, a, b)
	for _, m := range []*member{a, b} {
		owned := map[int32]bool{}
		for _, p := range m.ownedList() {
			owned[p] = true
		}
		foreign := 0
		for _, r := range m.got {
			if !owned[r.Partition] {
				foreign++
			}
		}
		fmt.Printf("late-read %s records=%d partitions=%d foreign=%d\n", m.name, len(m.got), len(owned), foreign)
	}
	printByPartition("late", append(a.got, b.got...))
	must(a.cl.CommitUncommittedOffsets(ctx), "commit a")
	must(b.cl.CommitUncommittedOffsets(ctx), "commit b")
	b.cl.Close()
	a.cl.Close()

	dg, err = adm.DescribeGroups(ctx, group)
	must(err, "describe group")
	describeGroup("described-after-close", dg[group])
}

func describeGroup(label string, g kadm.DescribedGroup) {
	if g.Err != nil {
		fail(label, "%v", g.Err)
	}
	assigned := []string{}
	for _, ps := range g.AssignedPartitions() {
		for p := range ps {
			assigned = append(assigned, fmt.Sprint(p))
		}
	}
	sort.Strings(assigned)
	clients := []string{}
	for _, m := range g.Members {
		clients = append(clients, m.ClientID)
	}
	sort.Strings(clients)
	fmt.Printf("%s %s state=%s type=%s protocol=%s members=%v assigned=%s\n", label, g.Group,
		g.State, g.ProtocolType, g.Protocol, clients, strings.Join(assigned, ","))
}

func offsets(adm *kadm.Client) {
	groups, err := adm.ListGroups(ctx)
	must(err, "list groups")
	for _, g := range groups.Sorted() {
		fmt.Printf("group %s state=%s type=%s group-type=%s\n", g.Group, g.State, g.ProtocolType, g.GroupType)
	}
	stable, err := adm.ListGroups(ctx, "Stable")
	must(err, "list stable groups")
	empty, err := adm.ListGroups(ctx, "Empty")
	must(err, "list empty groups")
	fmt.Printf("groups-by-state stable=%v empty=%v\n", stable.Groups(), empty.Groups())
	unknown, err := adm.DescribeGroups(ctx, "fz-nobody")
	must(err, "describe unknown group")
	u := unknown["fz-nobody"]
	fmt.Printf("described-unknown state=%s members=%d err=%s\n", u.State, len(u.Members), errName(u.Err))
	lags, err := adm.Lag(ctx, group)
	must(err, "lag")
	l := lags[group]
	fmt.Printf("lag %s state=%s total=%d err=%s\n", l.Group, l.State, l.Lag.Total(), errName(l.Error()))
	committed, err := adm.FetchOffsets(ctx, group)
	must(err, "fetch offsets")
	out := []string{}
	for p := int32(0); p < partitions; p++ {
		o, ok := committed.Lookup(topic, p)
		if !ok {
			out = append(out, fmt.Sprintf("%d:none", p))
			continue
		}
		out = append(out, fmt.Sprintf("%d:%d/%s", p, o.At, errName(o.Err)))
	}
	fmt.Println("committed", strings.Join(out, ","))
	starts, err := adm.ListStartOffsets(ctx, topic)
	must(err, "list start offsets")
	fmt.Println("start", listed(starts))
	fmt.Println("end", listed(endOffsets(adm)))
}

func listed(l kadm.ListedOffsets) string {
	out := []string{}
	for p := int32(0); p < partitions; p++ {
		o, ok := l.Lookup(topic, p)
		if !ok {
			fail("listed offsets", "no partition %d", p)
		}
		out = append(out, fmt.Sprintf("%d:%d/%s", p, o.Offset, errName(o.Err)))
	}
	return strings.Join(out, ",")
}
