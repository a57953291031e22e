import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { ContainerSummary, ListV2Result, ObjectSummary, PartInfo } from '@stratus/core';

/*
 * S3's wire shapes: XML documents (namespace http://s3.amazonaws.com/doc/2006-03-01/),
 * the <Error> body, request ids.
 */
export const S3_NS = 'http://s3.amazonaws.com/doc/2006-03-01/';
const XML_HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n';

export function esc(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

const el = (name: string, value: string | number | boolean) => `<${name}>${esc(String(value))}</${name}>`;
export const isoTime = (d: Date) => d.toISOString();
export const quoteEtag = (etag: string) => `"${etag}"`;

export function requestId(): string {
  return randomBytes(8).toString('hex').toUpperCase();
}

export function sendXml(
  res: ServerResponse,
  status: number,
  headers: Record<string, string>,
  body: string | undefined,
  head = false,
): void {
  const data = body === undefined ? undefined : Buffer.from(XML_HEAD + body);
  res.writeHead(status, {
    ...headers,
    ...(data ? { 'Content-Type': 'application/xml' } : {}),
    'Content-Length': String(head ? 0 : (data?.length ?? 0)),
  });
  res.end(head || status === 204 || status === 304 ? undefined : data);
}

export function errorXml(
  code: string,
  message: string,
  resource: string,
  reqId: string,
  extra: Record<string, string>,
) {
  return `<Error>${el('Code', code)}${el('Message', message)}${Object.entries(extra)
    .map(([k, v]) => el(k, v))
    .join('')}${el('Resource', resource)}${el('RequestId', reqId)}</Error>`;
}

export function owner(projectId: string, name: string): string {
  return `<Owner>${el('ID', projectId)}${el('DisplayName', name)}</Owner>`;
}

export function listBucketsXml(buckets: ContainerSummary[], ownerXml: string): string {
  return `<ListAllMyBucketsResult xmlns="${S3_NS}">${ownerXml}<Buckets>${buckets
    .map((b) => `<Bucket>${el('Name', b.name)}${el('CreationDate', isoTime(b.lastModified))}</Bucket>`)
    .join('')}</Buckets></ListAllMyBucketsResult>`;
}

function contentsXml(o: ObjectSummary, etag: string, encode: (s: string) => string): string {
  return `<Contents>${el('Key', encode(o.name))}${el('LastModified', isoTime(o.lastModified))}${el(
    'ETag',
    quoteEtag(etag),
  )}${el('Size', o.bytes)}${el('StorageClass', 'STANDARD')}</Contents>`;
}

export interface ListV2Echo {
  bucket: string;
  prefix: string;
  delimiter?: string;
  maxKeys: number;
  continuationToken?: string;
  startAfter?: string;
  encodingType?: 'url';
}

const urlEncodeKey = (s: string) => encodeURIComponent(s).replace(/%2F/g, '/');

export function listV2Xml(r: ListV2Result, echo: ListV2Echo): string {
  const enc = echo.encodingType === 'url' ? urlEncodeKey : (s: string) => s;
  return `<ListBucketResult xmlns="${S3_NS}">${el('Name', echo.bucket)}${el('Prefix', enc(echo.prefix))}${
    echo.delimiter !== undefined ? el('Delimiter', enc(echo.delimiter)) : ''
  }${el('MaxKeys', echo.maxKeys)}${el('KeyCount', r.keyCount)}${el('IsTruncated', r.isTruncated)}${
    echo.continuationToken !== undefined ? el('ContinuationToken', echo.continuationToken) : ''
  }${r.nextContinuationToken !== undefined ? el('NextContinuationToken', r.nextContinuationToken) : ''}${
    echo.startAfter !== undefined ? el('StartAfter', enc(echo.startAfter)) : ''
  }${echo.encodingType ? el('EncodingType', echo.encodingType) : ''}${r.contents
    .map((o) => contentsXml(o, o.etag, enc))
    .join('')}${r.commonPrefixes
    .map((p) => `<CommonPrefixes>${el('Prefix', enc(p))}</CommonPrefixes>`)
    .join('')}</ListBucketResult>`;
}

/** ListObjects (v1): marker-based, NextMarker when truncated. */
export function listV1Xml(
  r: ListV2Result,
  echo: { bucket: string; prefix: string; delimiter?: string; maxKeys: number; marker: string; encodingType?: 'url' },
): string {
  const enc = echo.encodingType === 'url' ? urlEncodeKey : (s: string) => s;
  const lastKey = r.contents[r.contents.length - 1]?.name;
  const lastPrefix = r.commonPrefixes[r.commonPrefixes.length - 1];
  const next = [lastKey, lastPrefix]
    .filter((x): x is string => x !== undefined)
    .sort()
    .pop();
  return `<ListBucketResult xmlns="${S3_NS}">${el('Name', echo.bucket)}${el('Prefix', enc(echo.prefix))}${el(
    'Marker',
    enc(echo.marker),
  )}${r.isTruncated && next !== undefined ? el('NextMarker', enc(next)) : ''}${
    echo.delimiter !== undefined ? el('Delimiter', enc(echo.delimiter)) : ''
  }${el('MaxKeys', echo.maxKeys)}${el('IsTruncated', r.isTruncated)}${
    echo.encodingType ? el('EncodingType', echo.encodingType) : ''
  }${r.contents.map((o) => contentsXml(o, o.etag, enc)).join('')}${r.commonPrefixes
    .map((p) => `<CommonPrefixes>${el('Prefix', enc(p))}</CommonPrefixes>`)
    .join('')}</ListBucketResult>`;
}

export function initiateXml(bucket: string, key: string, uploadId: string): string {
  return `<InitiateMultipartUploadResult xmlns="${S3_NS}">${el('Bucket', bucket)}${el('Key', key)}${el(
    'UploadId',
    uploadId,
  )}</InitiateMultipartUploadResult>`;
}

export function completeXml(location: string, bucket: string, key: string, etag: string): string {
  return `<CompleteMultipartUploadResult xmlns="${S3_NS}">${el('Location', location)}${el('Bucket', bucket)}${el(
    'Key',
    key,
  )}${el('ETag', quoteEtag(etag))}</CompleteMultipartUploadResult>`;
}

export function listPartsXml(
  bucket: string,
  key: string,
  uploadId: string,
  r: { parts: PartInfo[]; isTruncated: boolean; nextPartNumberMarker?: number },
  maxParts: number,
  marker: number,
  ownerXml: string,
): string {
  return `<ListPartsResult xmlns="${S3_NS}">${el('Bucket', bucket)}${el('Key', key)}${el('UploadId', uploadId)}${ownerXml.replace(
    /Owner>/g,
    'Initiator>',
  )}${ownerXml}${el('StorageClass', 'STANDARD')}${el('PartNumberMarker', marker)}${
    r.nextPartNumberMarker !== undefined ? el('NextPartNumberMarker', r.nextPartNumberMarker) : ''
  }${el('MaxParts', maxParts)}${el('IsTruncated', r.isTruncated)}${r.parts
    .map(
      (p) =>
        `<Part>${el('PartNumber', p.partNumber)}${el('LastModified', isoTime(p.lastModified))}${el(
          'ETag',
          quoteEtag(p.etag),
        )}${el('Size', p.size)}</Part>`,
    )
    .join('')}</ListPartsResult>`;
}

export function copyResultXml(etag: string, lastModified: Date): string {
  return `<CopyObjectResult xmlns="${S3_NS}">${el('LastModified', isoTime(lastModified))}${el(
    'ETag',
    quoteEtag(etag),
  )}</CopyObjectResult>`;
}

export function deleteResultXml(
  deleted: string[],
  errors: Array<{ key: string; code: string; message: string }>,
  quiet: boolean,
): string {
  return `<DeleteResult xmlns="${S3_NS}">${quiet ? '' : deleted.map((k) => `<Deleted>${el('Key', k)}</Deleted>`).join('')}${errors
    .map((e) => `<Error>${el('Key', e.key)}${el('Code', e.code)}${el('Message', e.message)}</Error>`)
    .join('')}</DeleteResult>`;
}
