-- Open-position risk (SPEC 8.4) computes Black-Scholes delta, gamma and a model mark
-- from the option's implied volatility when the trader gives one (annual decimal, NULL
-- when unknown or for stock).
ALTER TABLE positions ADD COLUMN iv REAL;
