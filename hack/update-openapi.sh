#!/usr/bin/env bash
# update-openapi.sh regenerates pkg/generated/openapi/zz_generated.openapi.go,
# the OpenAPI definitions (GetOpenAPIDefinitions) of the Kubernetes API types
# that our kube-apiserver serves, with kube-openapi's openapi-gen.
#
# The generator is the `tool` pinned in go.mod (k8s.io/kube-openapi/cmd/openapi-gen,
# at the version k8s.io/apimachinery selects), so the output depends only on
# go.mod/go.sum. To cover another API group, add its package to API_PACKAGES.
#
# Usage: hack/update-openapi.sh   (from anywhere; needs only Go)
set -o errexit -o nounset -o pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "${root}"

module=$(go list -m)
out_dir=pkg/generated/openapi
out_file=zz_generated.openapi.go

# Input packages. Every package whose types are referenced by another must be
# listed too (e.g. core/v1 needs resource.Quantity and intstr.IntOrString).
API_PACKAGES=(
	k8s.io/apimachinery/pkg/apis/meta/v1
	k8s.io/apimachinery/pkg/runtime
	k8s.io/apimachinery/pkg/util/intstr
	k8s.io/apimachinery/pkg/api/resource
	k8s.io/apimachinery/pkg/version
	k8s.io/api/core/v1
	k8s.io/api/apps/v1
	k8s.io/api/batch/v1
	k8s.io/api/coordination/v1
	k8s.io/api/events/v1
	k8s.io/api/rbac/v1
	k8s.io/api/autoscaling/v1
	k8s.io/api/policy/v1
	k8s.io/api/discovery/v1
	k8s.io/api/networking/v1
	k8s.io/api/storage/v1
	k8s.io/api/scheduling/v1
	# batch/v1 Job.spec.schedulingConfiguration refers to these alpha types.
	k8s.io/api/scheduling/v1alpha3
	k8s.io/api/node/v1
	k8s.io/api/authentication/v1
	k8s.io/api/authorization/v1
	k8s.io/api/certificates/v1
)

# The API linter reports known upstream rule violations of k8s.io/api; they are
# not ours to fix, so the report goes to a scratch file that is thrown away.
report=$(mktemp)
trap 'rm -f "${report}"' EXIT

go tool openapi-gen \
	--output-dir "${out_dir}" \
	--output-pkg "${module}/${out_dir}" \
	--output-file "${out_file}" \
	--report-filename "${report}" \
	"${API_PACKAGES[@]}"

# A reference by Go path (ref("k8s.io/...")) is to a type outside the input
# packages: its definition would be missing at run time.
if missing=$(grep -o 'ref("[^"]*")' "${out_dir}/${out_file}" | sort -u | grep .); then
	echo "update-openapi: definitions refer to types of packages not in API_PACKAGES:" >&2
	echo "${missing}" >&2
	exit 1
fi
if [[ -n "$(gofmt -l "${out_dir}/${out_file}")" ]]; then
	echo "update-openapi: ${out_file} is not gofmt-clean" >&2
	exit 1
fi
echo "update-openapi: wrote ${out_dir}/${out_file} ($(wc -l <"${out_dir}/${out_file}") lines)"
