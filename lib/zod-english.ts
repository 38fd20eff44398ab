import { en } from "zod/locales";
import { config } from "zod/mini";

// zod/mini registers no locale: without one, every issue zod words itself ("Invalid input: expected
// string, received number", "Unrecognized key", "Too small: ...") reads just "Invalid input". Classic
// zod registers English when it builds its first schema, unless a locale is set; so does this, once,
// for the schemas the relay validates with (each imports this module for that).
// Import zod/mini as `import * as z` or by name, never `import { z }`: that namespace object holds
// `locales`, and the relay's bundle would carry every locale (300 KB).
if (!config().localeError) config(en());
