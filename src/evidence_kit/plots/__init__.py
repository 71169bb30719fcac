"""Plots people would rather look at than read: forest and funnel plots of fitted models,
robvis-style risk-of-bias plots, the PRISMA 2020 flow diagram, posterior densities of a Bayesian
meta-analysis, profile-likelihood plots. Every function takes ``ax=`` and returns the Axes."""

from evidence_kit.plots.bayes import bayes_forest_plot, bayes_posterior_plot
from evidence_kit.plots.forest import forest_plot, funnel_plot
from evidence_kit.plots.prisma import prisma_diagram
from evidence_kit.plots.profile import profile_plot
from evidence_kit.plots.rob import rob_summary_plot, rob_traffic_light

__all__ = ["bayes_forest_plot", "bayes_posterior_plot", "forest_plot", "funnel_plot", "prisma_diagram", "profile_plot",
           "rob_summary_plot", "rob_traffic_light"]
