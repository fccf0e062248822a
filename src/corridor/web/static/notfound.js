// The 404 page in the language the dashboard remembers.
"use strict";
Corridor.initLanguage(null);
