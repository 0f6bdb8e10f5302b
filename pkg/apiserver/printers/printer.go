package printers

import "reflect"

// Printer prints one kind and its list as table rows. The registry
// descriptor of each served resource names its Printer (Pods(), Jobs(), …,
// or DefaultTable() for kinds upstream prints with the default table), and
// the server builds its Convertor from them with WithPrinters. The zero
// Printer names nothing (IsZero), so a descriptor that forgot its printer
// is told apart from one that chose the default table.
type Printer struct {
	named bool
	types []reflect.Type // the object and list types; none for DefaultTable
	h     *handler
}

// DefaultTable is upstream's default table ("Name", "Created At"), for kinds
// without a printer of their own (roles, clusterroles, custom resources).
func DefaultTable() Printer { return Printer{named: true} }

// IsZero reports whether p names no printer at all.
func (p Printer) IsZero() bool { return !p.named }

// WithPrinters makes a Convertor print exactly the kinds of ps with their
// own columns (and everything else with the default table), instead of
// every printer of this package as New does.
func WithPrinters(ps ...Printer) Option {
	return func(cv *Convertor) { cv.handlers = newRegistry(ps...) }
}
