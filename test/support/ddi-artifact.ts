/**
 * Artifact responses of the test DDI server, as hawkBit's `FileStreamingUtil.writeFileResponse` and
 * `DdiRootController.downloadArtifactMd5` write them, quirks included so that a client meets them in
 * tests: a full answer is 200 and still carries `Content-Range: bytes 0-(n-1)/n`; a Range covering
 * the whole file is answered 200; one range is 206; several are `multipart/byteranges` with no blank
 * line between a part's header and its bytes; a malformed Range or one that starts past the end is
 * 416 with the unsatisfied form of Content-Range (`bytes *` and `/n`); an end past the end is cut to the end; the `ETag` is the bare
 * SHA-1; `If-Match` with another tag is 412. `.MD5SUM` is `<md5>  <filename>` as text, like md5sum(1).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { drained } from '../../scripts/bench/drained.js';
import type { StoredArtifact } from './ddi-actions.js';

const BOUNDARY = 'THIS_STRING_SEPARATES_MULTIPART';

export interface DownloadRecord {
  readonly path: string;
  readonly range: string | undefined;
  readonly status: number;
  /** Body bytes written. */
  bytes: number;
}

/** Writes the artifact (or its `.MD5SUM` when `md5sum`); `dropAfterBytes` cuts the connection. */
export function writeArtifact(
  req: IncomingMessage,
  res: ServerResponse,
  artifact: StoredArtifact,
  opts: { md5sum: boolean; dropAfterBytes: number | undefined },
): DownloadRecord {
  const range = req.headers.range;
  const record: DownloadRecord = { path: req.url ?? '', range, status: 0, bytes: 0 };
  const answer = (status: number, headers: Record<string, string> = {}, body = '') => {
    res.writeHead(status, headers).end(body);
    return { ...record, status, bytes: body.length };
  };
  if (opts.md5sum) {
    const disposition = `attachment;filename=${artifact.filename}.MD5SUM`;
    const text = `${artifact.hashes.md5}  ${artifact.filename}`;
    return answer(200, { 'content-type': 'text/plain', 'content-disposition': disposition }, text);
  }
  const size = artifact.data.length;
  const ifMatch = req.headers['if-match'];
  const tags = ifMatch?.split(',').map((t) => t.trim().replace(/"/g, ''));
  if (tags && !tags.includes(artifact.hashes.sha1) && !tags.includes('*')) return answer(412);
  const unsatisfiable = { 'content-range': `bytes */${size}` };
  const ranges: [number, number][] = [];
  if (range !== undefined) {
    if (!/^bytes=\d*-\d*(,\d*-\d*)*$/.test(range)) return answer(416, unsatisfiable);
    for (const part of range.slice(6).split(',')) {
      const [from = '', to = ''] = part.split('-');
      let start = from === '' ? -1 : Number(from);
      let end = to === '' ? -1 : Number(to);
      if (start === -1) [start, end] = [size - end, size - 1];
      else if (end === -1 || end > size - 1) end = size - 1;
      if (start > end) return answer(416, unsatisfiable);
      ranges.push([start, end]);
    }
  }
  const first = ranges[0];
  const whole = !first || (ranges.length === 1 && first[0] === 0 && first[1] === size - 1);
  const headers: Record<string, string> = {
    'content-disposition': `attachment;filename=${artifact.filename}`,
    etag: artifact.hashes.sha1,
    'accept-ranges': 'bytes',
    'x-content-type-options': 'nosniff',
    'last-modified': new Date(0).toUTCString(),
    'content-type': 'application/octet-stream',
  };
  let body: Buffer;
  if (whole || ranges.length === 1) {
    const [start, end] = whole || !first ? [0, size - 1] : first;
    body = artifact.data.subarray(start, end + 1);
    Object.assign(headers, {
      'content-range': `bytes ${start}-${end}/${size}`,
      'content-length': String(body.length),
    });
  } else {
    headers['content-type'] = `multipart/byteranges; boundary=${BOUNDARY}`;
    const part = ([s, e]: [number, number]) => [
      Buffer.from(`\r\n--${BOUNDARY}\r\nContent-Range: bytes ${s}-${e}/${size}\r\n`),
      artifact.data.subarray(s, e + 1),
    ];
    body = Buffer.concat([...ranges.flatMap(part), Buffer.from(`\r\n--${BOUNDARY}--`)]);
  }
  const sent: DownloadRecord = { ...record, status: whole ? 200 : 206 };
  res.writeHead(sent.status, headers);
  void send(res, body, opts.dropAfterBytes, sent);
  return sent;
}

async function send(
  res: ServerResponse,
  body: Buffer,
  dropAfter: number | undefined,
  record: DownloadRecord,
) {
  if (dropAfter !== undefined) {
    // The bytes reach the client, then the connection dies mid-body.
    const cut = body.subarray(0, dropAfter);
    record.bytes = cut.length;
    res.flushHeaders();
    res.write(cut, () => res.destroy());
    return;
  }
  for (let pos = 0; pos < body.length && !res.destroyed; pos += 64 * 1024) {
    const piece = body.subarray(pos, pos + 64 * 1024);
    record.bytes += piece.length;
    if (!res.write(piece)) await drained(res);
  }
  res.end();
}
