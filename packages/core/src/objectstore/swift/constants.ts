/*
 * The limits of this Swift cluster, as a real proxy's /info advertises them
 * (swift/common/constraints.py defaults), and the capabilities document itself.
 */
export const LIMITS = {
  maxFileSize: 5 * 1024 ** 3 + 2,
  maxMetaNameLength: 128,
  maxMetaValueLength: 256,
  maxMetaCount: 90,
  maxMetaOverallSize: 4096,
  maxHeaderSize: 8192,
  maxObjectNameLength: 1024,
  maxContainerNameLength: 256,
  maxAccountNameLength: 256,
  containerListingLimit: 10000,
  accountListingLimit: 10000,
  /** SLO */
  maxManifestSegments: 1000,
  maxManifestSize: 8 * 1024 * 1024,
  minSegmentSize: 1,
  /** DLO: segments concatenated by one GET. */
  maxDloSegments: 10000,
  /** bulk delete */
  maxDeletesPerRequest: 10000,
  maxFailedDeletes: 1000,
} as const;

export const SWIFT_VERSION = '2.30.0';
export const STORAGE_POLICY = 'Policy-0';
export const TEMPURL_METHODS = ['GET', 'HEAD', 'PUT', 'POST', 'DELETE'] as const;
export const TEMPURL_DIGESTS = ['sha1', 'sha256', 'sha512'] as const;

/** GET /info: what `swift capabilities` prints and what clients check before using SLO, tempurl, bulk delete. */
export function capabilities(): Record<string, Record<string, unknown>> {
  return {
    swift: {
      version: SWIFT_VERSION,
      max_file_size: LIMITS.maxFileSize,
      max_meta_name_length: LIMITS.maxMetaNameLength,
      max_meta_value_length: LIMITS.maxMetaValueLength,
      max_meta_count: LIMITS.maxMetaCount,
      max_meta_overall_size: LIMITS.maxMetaOverallSize,
      max_header_size: LIMITS.maxHeaderSize,
      max_object_name_length: LIMITS.maxObjectNameLength,
      max_container_name_length: LIMITS.maxContainerNameLength,
      max_account_name_length: LIMITS.maxAccountNameLength,
      container_listing_limit: LIMITS.containerListingLimit,
      account_listing_limit: LIMITS.accountListingLimit,
      extra_header_count: 0,
      valid_api_versions: ['v1', 'v1.0'],
      strict_cors_mode: true,
      allow_account_management: false,
      account_autocreate: true,
      policies: [{ name: STORAGE_POLICY, default: true }],
    },
    slo: {
      max_manifest_segments: LIMITS.maxManifestSegments,
      max_manifest_size: LIMITS.maxManifestSize,
      min_segment_size: LIMITS.minSegmentSize,
      yield_frequency: 10,
      allow_async_delete: false,
    },
    dlo: { max_segments: LIMITS.maxDloSegments },
    tempurl: {
      methods: [...TEMPURL_METHODS],
      incoming_remove_headers: ['x-timestamp'],
      incoming_allow_headers: [],
      outgoing_remove_headers: ['x-object-meta-*'],
      outgoing_allow_headers: ['x-object-meta-public-*'],
      allowed_digests: [...TEMPURL_DIGESTS],
    },
    bulk_delete: { max_deletes_per_request: LIMITS.maxDeletesPerRequest, max_failed_deletes: LIMITS.maxFailedDeletes },
    account_quotas: {},
    container_quotas: {},
  };
}
