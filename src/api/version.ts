// The versions Concord reports. It speaks etcd 3.4's API, so it reports that etcd version where
// etcd tools read one (Status, /version): clients gate features on it.
export const ETCD_SERVER_VERSION = '3.4.23';
export const ETCD_CLUSTER_VERSION = '3.4.0';
export const CONCORD_VERSION = '0.1.0';
