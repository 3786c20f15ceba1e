"""The duty desk (值班工作台): officers' accounts and sign-in, the live alarm list and its actions, served
by the alerting process beside the API (issue 17)."""
