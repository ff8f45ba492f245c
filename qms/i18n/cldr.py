"""Each language's short date pattern as CLDR has it, written from Babel's data by
`python -m qms.i18n.catalogues` (do not edit): a short date is written with it without loading
the language's whole locale data (about 25 ms, once a process; a list shows a date a row)."""

SHORT_DAY = {
    "en": "dd/MM/y",
    "nb": "dd.MM.y",
    "sv": "y-MM-dd",
}
