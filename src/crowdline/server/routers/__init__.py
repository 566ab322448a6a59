"""One router per noun: annotator API, annotator pages, dashboard pages, crowdline extras."""
