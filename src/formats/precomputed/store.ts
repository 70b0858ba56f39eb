// The few Store methods a precomputed volume needs. A missing chunk or shard is all zeros in this
// format, so absence is an answer: reads go through readIfExists.
import type { Store } from '../../storage/store.ts';

export type VolumeStore = Pick<Store, 'url' | 'readIfExists' | 'write'>;
