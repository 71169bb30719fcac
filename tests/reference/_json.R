# Shared helper for the fixture scripts: write a nested list as JSON with every number at full
# precision (%.17g), so regenerating a fixture changes nothing unless a number moved.
# NA/NaN -> null, Inf -> "Inf"/"-Inf" strings (JSON has no infinities).

.json_scalar <- function(x) {
  if (is.null(x)) return("null")
  if (is.logical(x)) return(ifelse(is.na(x), "null", ifelse(x, "true", "false")))
  if (is.numeric(x)) {
    if (is.na(x)) return("null")
    if (is.infinite(x)) return(if (x > 0) '"Inf"' else '"-Inf"')
    return(sprintf("%.17g", x))
  }
  if (is.factor(x)) x <- as.character(x)
  if (is.na(x)) return("null")
  s <- gsub("\\\\", "\\\\\\\\", x)
  s <- gsub('"', '\\\\"', s)
  s <- gsub("\n", "\\\\n", s)
  paste0('"', s, '"')
}

to_json <- function(x, indent = 0) {
  pad <- strrep(" ", indent + 2)
  end <- strrep(" ", indent)
  if (is.data.frame(x)) x <- as.list(x)
  if (is.matrix(x)) x <- lapply(seq_len(nrow(x)), function(i) unname(x[i, ]))
  if (is.list(x)) {
    if (length(x) == 0) return(if (is.null(names(x))) "[]" else "{}")
    items <- vapply(x, to_json, character(1), indent = indent + 2)
    if (!is.null(names(x))) {
      keys <- vapply(names(x), .json_scalar, character(1))
      items <- paste0(keys, ": ", items)
      return(paste0("{\n", pad, paste(items, collapse = paste0(",\n", pad)), "\n", end, "}"))
    }
    return(paste0("[\n", pad, paste(items, collapse = paste0(",\n", pad)), "\n", end, "]"))
  }
  if (length(x) == 1 && is.null(names(x)) && !isTRUE(attr(x, "as_array"))) return(.json_scalar(x))
  vals <- vapply(seq_along(x), function(i) .json_scalar(x[[i]]), character(1))
  paste0("[", paste(vals, collapse = ", "), "]")
}

# Always an array, even of length one.
arr <- function(x) { x <- unname(x); attr(x, "as_array") <- TRUE; x }

versions <- function() list(
  R = R.version.string,
  metafor = as.character(packageVersion("metafor")),
  metadat = as.character(packageVersion("metadat")),
  clubSandwich = tryCatch(as.character(packageVersion("clubSandwich")), error = function(e) NA)
)

write_fixture <- function(cases, path, script) {
  out <- list(generated_by = script, versions = versions(), cases = cases)
  writeLines(to_json(out), path, useBytes = TRUE)
  message("wrote ", path, " (", length(cases), " cases)")
}
