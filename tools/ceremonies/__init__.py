"""Ceremony preparation: agendas (`agenda`), their times (`times`) and the .ics invite (`ics`)."""
