package otlp

import (
	"context"
	"net/netip"
	"strings"

	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"

	"github.com/hotpath-apm/hotpath/collector"
	"github.com/hotpath-apm/hotpath/collector/intake"
)

// clientMetadata is what APM Server's gRPC ClientMetadata interceptor records of the peer, and its
// SetClientMetadata processor gives the events of mobile agents (iOS/swift, android/java), which do
// not know their own address: source.ip and source.port (the peer's), client.ip; with a forwarding
// header, source.ip and client.ip are the forwarded address and source.nat.ip the peer.
type clientMetadata struct {
	peer      netip.AddrPort
	forwarded netip.Addr
}

// grpcPeer is the address of a gRPC request's peer (the zero Addr if unknown): the client its stream
// slot counts against.
func grpcPeer(ctx context.Context) netip.Addr {
	if p, ok := peer.FromContext(ctx); ok && p.Addr != nil {
		if ap, err := netip.ParseAddrPort(p.Addr.String()); err == nil {
			return ap.Addr()
		}
	}
	return netip.Addr{}
}

// grpcClientMetadata reads the peer and the forwarding headers of a gRPC request.
func grpcClientMetadata(ctx context.Context) *clientMetadata {
	var m clientMetadata
	if p, ok := peer.FromContext(ctx); ok && p.Addr != nil {
		if ap, err := netip.ParseAddrPort(p.Addr.String()); err == nil {
			m.peer = ap
		}
	}
	md, _ := metadata.FromIncomingContext(ctx)
	m.forwarded = intake.ForwardedIP(func(name string) string {
		if v := md.Get(strings.ToLower(name)); len(v) > 0 {
			return v[0]
		}
		return ""
	})
	return &m
}

// apply sets the client fields of the mobile agents' events of b.
func (m *clientMetadata) apply(b collector.Batch) {
	if m == nil {
		return
	}
	for i := range b {
		e := &b[i]
		if e.Agent.Name != "iOS/swift" && e.Agent.Name != "android/java" {
			continue
		}
		if !e.Source.IP.IsValid() {
			if m.forwarded.IsValid() {
				e.Source.IP = m.forwarded
				e.Source.NATIP = m.peer.Addr().Unmap()
			} else if m.peer.IsValid() {
				e.Source.IP = m.peer.Addr().Unmap()
				e.Source.Port = m.peer.Port()
			}
		}
		if !e.Client.IP.IsValid() {
			if m.forwarded.IsValid() {
				e.Client.IP = m.forwarded
			} else if m.peer.IsValid() {
				e.Client.IP = m.peer.Addr()
			}
		}
	}
}
