/*
 * The Swift v1 API's domain (accounts, containers, listings, objects, large objects,
 * temp URLs, ACLs, quotas, bulk delete, expiry) over the replicated ObjectBackend.
 * Independent of HTTP: the REST adapter (apps/web/src/server/rest/object) and a later
 * S3 layer call these functions. Policy rules are registered by ./policy.ts on load.
 */
import './policy.ts';

export { OBJECT_STORE_RULES } from './policy.ts';
export {
  type ObjectCaller,
  type TempUrlGrant,
  type TempUrlMethod,
  type AccessOp,
  authorize,
  isOwner,
  accountOfProject,
  projectOfAccount,
  canSetAccountQuota,
} from './access.ts';
export { parseAcl, cleanAcl, referrerAllowed, granteeAllowed, type ParsedAcl } from './acl.ts';
export { capabilities, LIMITS as SWIFT_LIMITS, SWIFT_VERSION, STORAGE_POLICY } from './constants.ts';
export { type Conditions, type RangeSpec, parseRangeHeader, resolveRange, evaluateConditions } from './conditions.ts';
export { type ListingOptions, type ListingEntry, walkListing } from './listing.ts';
export { type Meta, type MetaChange, emptyChange } from './meta.ts';
export { headAccount, listAccount, postAccount, type AccountInfo, type ContainerSummary } from './accounts.ts';
export {
  putContainer,
  postContainer,
  headContainer,
  listContainer,
  deleteContainer,
  type ContainerInfo,
  type ContainerChange,
  type ObjectSummary,
} from './containers.ts';
export {
  readObject,
  putObject,
  copyObject,
  postObject,
  deleteObject,
  deleteSlo,
  expireObject,
  resolveDeleteAt,
  type ObjectView,
  type ObjectRead,
  type ObjectHeaders,
  type ReadRequest,
  type PutRequest,
  type CopyRequest,
  type CopyResult,
  type PostRequest,
  type DeleteResult,
} from './objects.ts';
export { verifyTempUrl, type TempUrlQuery } from './tempurl.ts';
export { bulkDelete, type BulkDeleteResult } from './bulk.ts';
export { objectExpireJobDef, ObjectExpireJob } from './jobs.ts';
export { setObjectBackend, setObjectBackendFactory, objectBackend, hasObjectBackend } from './store.ts';
export { newTimestamp, timestampToDate, listingDate, lastModifiedSeconds } from './timestamp.ts';
export { guessContentType } from './mime.ts';
export {
  isPublicRead,
  withPublicRead,
  setContainerPublic,
  folderObjectName,
  createPseudoFolder,
  deleteObjectsUnder,
  PUBLIC_READ_ELEMENTS,
  type PrefixDeleteResult,
} from './browser.ts';
