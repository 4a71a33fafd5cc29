/** API group and version shared with the reference operator (electronicarts/doltdb-operator). */
export const Group = "k8s.dolthub.com"
export const Version = "v1alpha"
export const ApiVersion = `${Group}/${Version}` as const
