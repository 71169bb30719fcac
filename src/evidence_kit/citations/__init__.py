"""Citation metadata: read and write BibTeX, RIS, CSL-JSON and MEDLINE; identifiers;
duplicates; PRISMA 2020 counts from a screening ledger; APA 7 references."""

from evidence_kit.citations.apa import bibliography, format_reference
from evidence_kit.citations.duplicates import find_duplicates
from evidence_kit.citations.ids import normalize_doi, normalize_pmcid, normalize_pmid
from evidence_kit.citations.io import citations_frame, read_citations, write_citations
from evidence_kit.citations.model import Citation, CitationParseError
from evidence_kit.citations.prisma import PrismaCounts, prisma_counts

__all__ = [
    "bibliography", "format_reference",
    "Citation", "CitationParseError", "citations_frame", "find_duplicates", "normalize_doi",
    "normalize_pmcid", "normalize_pmid", "read_citations", "write_citations", "PrismaCounts",
    "prisma_counts",
]
