import { isStratusError } from '../../platform/errors.ts';

/*
 * S3's error codes and their HTTP statuses, and the mapping from the Swift core's
 * errors (StratusError) to them, by context (a 404 on a bucket is NoSuchBucket, on a key
 * NoSuchKey).
 */
export const S3_ERRORS = {
  AccessDenied: 403,
  AuthorizationHeaderMalformed: 400,
  AuthorizationQueryParametersError: 400,
  BadDigest: 400,
  BucketAlreadyExists: 409,
  BucketAlreadyOwnedByYou: 409,
  BucketNotEmpty: 409,
  EntityTooLarge: 400,
  EntityTooSmall: 400,
  IncompleteBody: 400,
  InternalError: 500,
  InvalidAccessKeyId: 403,
  InvalidArgument: 400,
  InvalidBucketName: 400,
  InvalidDigest: 400,
  InvalidPart: 400,
  InvalidPartOrder: 400,
  InvalidRange: 416,
  InvalidURI: 400,
  InvalidRequest: 400,
  KeyTooLongError: 400,
  MalformedXML: 400,
  MethodNotAllowed: 405,
  MissingContentLength: 411,
  NoSuchBucket: 404,
  NoSuchKey: 404,
  NoSuchUpload: 404,
  NotImplemented: 501,
  NotModified: 304,
  PreconditionFailed: 412,
  QuotaExceeded: 403,
  RequestTimeTooSkewed: 403,
  ServiceUnavailable: 503,
  SignatureDoesNotMatch: 403,
  XAmzContentSHA256Mismatch: 400,
} as const;
export type S3ErrorCode = keyof typeof S3_ERRORS;

export class S3Error extends Error {
  override name = 'S3Error';
  constructor(
    readonly code: S3ErrorCode,
    message: string,
    readonly extra: Record<string, string> = {},
  ) {
    super(message);
  }
  get status(): number {
    return S3_ERRORS[this.code];
  }
}

export const isS3Error = (e: unknown): e is S3Error => e instanceof S3Error;

/** What a 404 means where it happened. */
export type NotFoundAs = 'NoSuchBucket' | 'NoSuchKey' | 'NoSuchUpload';

/** A Swift core error as S3 reports it. Unknown errors are rethrown (the adapter answers InternalError). */
export function toS3Error(err: unknown, notFoundAs: NotFoundAs = 'NoSuchKey'): S3Error {
  if (isS3Error(err)) return err;
  if (!isStratusError(err)) throw err;
  switch (err.code) {
    case 'NotFound':
      return new S3Error(
        notFoundAs,
        notFoundAs === 'NoSuchBucket'
          ? 'The specified bucket does not exist'
          : notFoundAs === 'NoSuchUpload'
            ? 'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.'
            : 'The specified key does not exist.',
      );
    case 'Unauthorized':
    case 'Forbidden':
      return new S3Error('AccessDenied', 'Access Denied');
    case 'Conflict':
      return new S3Error('BucketNotEmpty', 'The bucket you tried to delete is not empty');
    case 'QuotaExceeded':
      return new S3Error(err.message.includes('quota') ? 'QuotaExceeded' : 'EntityTooLarge', err.message);
    case 'PreconditionFailed':
      return new S3Error('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold');
    case 'RangeNotSatisfiable':
      return new S3Error('InvalidRange', 'The requested range is not satisfiable');
    case 'UnprocessableEntity':
      return new S3Error('BadDigest', 'The Content-MD5 you specified did not match what we received.');
    case 'Unavailable':
      return new S3Error('ServiceUnavailable', 'Please reduce your request rate.');
    default:
      return new S3Error('InvalidArgument', err.message);
  }
}
