// Package clusters is `kinc delete clusters`.
package clusters

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/kinc-dev/kinc/pkg/cluster"
	"github.com/kinc-dev/kinc/pkg/cmd"
	"github.com/kinc-dev/kinc/pkg/log"
)

type flagpole struct {
	all        bool
	kubeconfig string
}

// NewCommand returns `kinc delete clusters`.
func NewCommand(logger log.Logger, _ cmd.IOStreams) *cobra.Command {
	flags := &flagpole{}
	c := &cobra.Command{
		Use:   "clusters [name...]",
		Short: "Deletes the named clusters, or all with --all",
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) == 0 && !flags.all {
				return errors.New("no cluster names provided (give names, or --all)")
			}
			if len(args) > 0 && flags.all {
				return errors.New("give cluster names or --all, not both")
			}
			return nil
		},
		RunE: func(c *cobra.Command, args []string) error {
			p, err := cluster.NewProvider(cluster.ProviderWithLogger(logger))
			if err != nil {
				return err
			}
			names := args
			if flags.all {
				if names, err = p.List(c.Context()); err != nil {
					return err
				}
			}
			var errs []error
			var deleted []string
			for _, name := range names {
				if err := p.Delete(c.Context(), name, flags.kubeconfig); err != nil {
					errs = append(errs, err)
					continue
				}
				deleted = append(deleted, name)
			}
			logger.V(0).Infof("Deleted clusters: %q", deleted)
			if err := errors.Join(errs...); err != nil {
				return fmt.Errorf("delete clusters: %w", err)
			}
			return nil
		},
	}
	c.Flags().BoolVarP(&flags.all, "all", "A", false, "delete all clusters")
	c.Flags().StringVar(&flags.kubeconfig, "kubeconfig", "", "kubeconfig to remove the clusters from instead of $KUBECONFIG and $HOME/.kube/config")
	return c
}
