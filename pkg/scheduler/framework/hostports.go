package framework

// DefaultBindAllHostIP is the wildcard host IP a port binds when its hostIP
// is empty.
const DefaultBindAllHostIP = "0.0.0.0"

// ProtocolPort is a protocol and port pair.
type ProtocolPort struct {
	Protocol string
	Port     int32
}

// HostPortInfo records the host ports in use: IP → protocol/port →
// how many pods use it.
type HostPortInfo map[string]map[ProtocolPort]int

func sanitize(ip, protocol string) (string, string) {
	if ip == "" {
		ip = DefaultBindAllHostIP
	}
	if protocol == "" {
		protocol = "TCP"
	}
	return ip, protocol
}

// Add records one use of ip/protocol/port.
func (h HostPortInfo) Add(ip, protocol string, port int32) {
	ip, protocol = sanitize(ip, protocol)
	pp := ProtocolPort{Protocol: protocol, Port: port}
	if h[ip] == nil {
		h[ip] = map[ProtocolPort]int{}
	}
	h[ip][pp]++
}

// Remove forgets one use of ip/protocol/port.
func (h HostPortInfo) Remove(ip, protocol string, port int32) {
	ip, protocol = sanitize(ip, protocol)
	pp := ProtocolPort{Protocol: protocol, Port: port}
	if m := h[ip]; m != nil {
		if m[pp]--; m[pp] <= 0 {
			delete(m, pp)
		}
		if len(m) == 0 {
			delete(h, ip)
		}
	}
}

// CheckConflict reports whether ip/protocol/port collides with a used port:
// the same port and protocol on the same IP, or on any IP when either side
// is the wildcard 0.0.0.0.
func (h HostPortInfo) CheckConflict(ip, protocol string, port int32) bool {
	ip, protocol = sanitize(ip, protocol)
	pp := ProtocolPort{Protocol: protocol, Port: port}
	if ip == DefaultBindAllHostIP {
		for _, m := range h {
			if m[pp] > 0 {
				return true
			}
		}
		return false
	}
	return h[DefaultBindAllHostIP][pp] > 0 || h[ip][pp] > 0
}

// Clone returns a deep copy.
func (h HostPortInfo) Clone() HostPortInfo {
	c := make(HostPortInfo, len(h))
	for ip, m := range h {
		cm := make(map[ProtocolPort]int, len(m))
		for k, v := range m {
			cm[k] = v
		}
		c[ip] = cm
	}
	return c
}
