// Thin promise wrappers over raw file descriptors for the WAL's hot path (positional write,
// fdatasync) and the durability steps around renames (fsync of a directory). Raw fds and the
// callback API avoid a FileHandle object and its bookkeeping per operation.
import fs from 'node:fs';

/** Opens `path` with `flags` ('r+', 'w', ...). */
export function openFd(path: string, flags: string): Promise<number> {
  return new Promise((resolve, reject) => {
    fs.open(path, flags, 0o644, (err, fd) => (err ? reject(err) : resolve(fd)));
  });
}

/** Writes all of `buf` at `position`, looping over short writes. */
export async function writeFully(fd: number, buf: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < buf.length) {
    done += await new Promise<number>((resolve, reject) => {
      fs.write(fd, buf, done, buf.length - done, position + done, (err, written) =>
        err ? reject(err) : resolve(written),
      );
    });
  }
}

/**
 * Writes all of `buf` at `position` synchronously. A write lands in the page cache in
 * microseconds; doing it on the calling thread saves a trip through the libuv pool per save, so
 * only the fdatasync (the slow part) goes to the pool.
 */
export function writeFullySync(fd: number, buf: Uint8Array, position: number): void {
  let done = 0;
  while (done < buf.length) done += fs.writeSync(fd, buf, done, buf.length - done, position + done);
}

/** fdatasync(2): the data and the metadata needed to read it are durable. */
export function fdatasync(fd: number): Promise<void> {
  return new Promise((resolve, reject) => {
    fs.fdatasync(fd, (err) => (err ? reject(err) : resolve()));
  });
}

/** fsync(2): data and all metadata are durable. */
export function fsyncFd(fd: number): Promise<void> {
  return new Promise((resolve, reject) => {
    fs.fsync(fd, (err) => (err ? reject(err) : resolve()));
  });
}

/** Sets the file's length; a longer length reads back as zeros. */
export function ftruncate(fd: number, length: number): Promise<void> {
  return new Promise((resolve, reject) => {
    fs.ftruncate(fd, length, (err) => (err ? reject(err) : resolve()));
  });
}

/** Closes a descriptor. */
export function closeFd(fd: number): Promise<void> {
  return new Promise((resolve, reject) => {
    fs.close(fd, (err) => (err ? reject(err) : resolve()));
  });
}

/** Makes a directory's entries (creations, renames, removals) durable. */
export async function fsyncDir(dir: string): Promise<void> {
  const fd = await openFd(dir, 'r');
  try {
    await fsyncFd(fd);
  } finally {
    await closeFd(fd);
  }
}

/**
 * Writes `data` to `path` atomically: a temporary file beside it, fsync, rename over `path`,
 * fsync of the directory. A crash leaves either the old state or the whole new file (and at worst
 * a stray `.tmp`, which readers ignore).
 */
export async function writeFileAtomic(dir: string, name: string, data: Uint8Array): Promise<void> {
  const path = `${dir}/${name}`;
  const tmp = `${path}.tmp`;
  const fd = await openFd(tmp, 'w');
  try {
    await writeFully(fd, data, 0);
    await fsyncFd(fd);
  } finally {
    await closeFd(fd);
  }
  await fs.promises.rename(tmp, path);
  await fsyncDir(dir);
}
