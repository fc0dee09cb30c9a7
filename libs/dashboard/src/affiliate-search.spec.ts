import { InMemoryViewStore } from '@lib/views/in-memory.view-store';
import { affiliateSearchSpec } from './testing/search-spec';

describe('affiliate search by name or code, in-memory views', () => {
  affiliateSearchSpec(async () => new InMemoryViewStore(), (s) => s.close());
});
