"""The EPM dialect end to end: the vendor documents' own samples and error cases, run verbatim against
real servers over HTTP."""
