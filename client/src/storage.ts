/**
 * Where the client keeps what must survive a restart of the app: each conversation's cursor (the seq up
 * to which it handed the app everything), the outbox, and the ids of emergency broadcasts already shown.
 * Values are plain JSON. Give each signed-in user its own storage (e.g. an IndexedDB name with the uid).
 */
export interface ClientStorage {
  get<T>(key: string): Promise<T | undefined>;
  set<T>(key: string, value: T): Promise<void>;
  delete(key: string): Promise<void>;
  /** Every entry whose key starts with `prefix`. */
  entries<T>(prefix: string): Promise<Array<[string, T]>>;
}

/** The default: nothing survives the process (a reload starts from the server's offline queue). */
export class MemoryStorage implements ClientStorage {
  private readonly data = new Map<string, string>();

  async get<T>(key: string): Promise<T | undefined> {
    const value = this.data.get(key);
    return value === undefined ? undefined : (JSON.parse(value) as T);
  }

  async set<T>(key: string, value: T): Promise<void> {
    this.data.set(key, JSON.stringify(value));
  }

  async delete(key: string): Promise<void> {
    this.data.delete(key);
  }

  async entries<T>(prefix: string): Promise<Array<[string, T]>> {
    return [...this.data].filter(([key]) => key.startsWith(prefix)).map(([key, value]) => [key, JSON.parse(value) as T]);
  }
}

/** The little of the IndexedDB API this uses, declared here so the package type-checks without the DOM library. */
interface IdbRequest<T = unknown> {
  result: T;
  error: unknown;
  onsuccess: (() => void) | null;
  onerror: (() => void) | null;
}
interface IdbCursor {
  key: unknown;
  value: unknown;
  continue(): void;
}
interface IdbStore {
  get(key: string): IdbRequest;
  put(value: unknown, key: string): IdbRequest;
  delete(key: string): IdbRequest;
  openCursor(range: unknown): IdbRequest<IdbCursor | null>;
}
interface IdbDatabase {
  transaction(store: string, mode: "readonly" | "readwrite"): { objectStore(name: string): IdbStore };
  createObjectStore(name: string): unknown;
  close(): void;
}
export interface IdbFactoryLike {
  open(name: string, version: number): IdbRequest<IdbDatabase> & { onupgradeneeded: (() => void) | null };
}
export interface IdbKeyRangeLike {
  bound(lower: string, upper: string): unknown;
}

/**
 * Browser storage in one IndexedDB object store. `indexedDB` and `IDBKeyRange` default to the globals;
 * pass others in where there are none (e.g. fake-indexeddb in Node).
 */
export class IndexedDbStorage implements ClientStorage {
  private readonly db: Promise<IdbDatabase>;
  private readonly keyRange: IdbKeyRangeLike;
  private static readonly STORE = "kv";

  constructor(name: string, apis: { indexedDB?: IdbFactoryLike; IDBKeyRange?: IdbKeyRangeLike } = {}) {
    const global = globalThis as { indexedDB?: IdbFactoryLike; IDBKeyRange?: IdbKeyRangeLike };
    const factory = apis.indexedDB ?? global.indexedDB;
    const keyRange = apis.IDBKeyRange ?? global.IDBKeyRange;
    if (!factory || !keyRange) throw new Error("IndexedDbStorage: no IndexedDB in this environment");
    this.keyRange = keyRange;
    this.db = new Promise((resolve, reject) => {
      const request = factory.open(name, 1);
      request.onupgradeneeded = () => request.result.createObjectStore(IndexedDbStorage.STORE);
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
  }

  async get<T>(key: string): Promise<T | undefined> {
    return this.run<T | undefined>("readonly", (store) => store.get(key));
  }

  async set<T>(key: string, value: T): Promise<void> {
    await this.run("readwrite", (store) => store.put(value, key));
  }

  async delete(key: string): Promise<void> {
    await this.run("readwrite", (store) => store.delete(key));
  }

  async entries<T>(prefix: string): Promise<Array<[string, T]>> {
    const db = await this.db;
    return new Promise((resolve, reject) => {
      const found: Array<[string, T]> = [];
      const store = db.transaction(IndexedDbStorage.STORE, "readonly").objectStore(IndexedDbStorage.STORE);
      const request = store.openCursor(this.keyRange.bound(prefix, `${prefix}\uffff`));
      request.onsuccess = () => {
        const cursor = request.result;
        if (!cursor) return resolve(found);
        found.push([String(cursor.key), cursor.value as T]);
        cursor.continue();
      };
      request.onerror = () => reject(request.error);
    });
  }

  async close(): Promise<void> {
    (await this.db).close();
  }

  private async run<T>(mode: "readonly" | "readwrite", operation: (store: IdbStore) => IdbRequest): Promise<T> {
    const db = await this.db;
    return new Promise((resolve, reject) => {
      const request = operation(db.transaction(IndexedDbStorage.STORE, mode).objectStore(IndexedDbStorage.STORE));
      request.onsuccess = () => resolve(request.result as T);
      request.onerror = () => reject(request.error);
    });
  }
}
