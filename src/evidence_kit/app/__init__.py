"""The applications on top of the library: the ``evidence-kit`` command line (``cli``) and the
site builder that renders the review (``site``)."""
